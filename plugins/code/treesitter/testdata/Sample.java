import java.io.*;

class Sample {
    Object read(InputStream in) throws Exception {
        // new ObjectInputStream(in)
        String s = "new ObjectInputStream(in)";
        return new ObjectInputStream(in).readObject();
    }
}
