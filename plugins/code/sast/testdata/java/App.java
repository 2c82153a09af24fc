// Planted issues are marked "expect: <rule>"; every other line must stay silent.
package com.example;

import java.io.*;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.sql.*;
import java.util.Random;
import javax.crypto.Cipher;
import javax.xml.parsers.DocumentBuilderFactory;

public class App {
    void planted(Connection conn, Statement stmt, String name, InputStream in) throws Exception {
        ResultSet rs = stmt.executeQuery("SELECT * FROM users WHERE name = '" + name + "'"); // expect: java-sql-injection
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM t WHERE a = " + name); // expect: java-sql-injection
        Runtime.getRuntime().exec("sh -c " + name); // expect: java-command-injection
        MessageDigest md = MessageDigest.getInstance("MD5"); // expect: java-weak-hash
        MessageDigest sha = MessageDigest.getInstance("SHA-1"); // expect: java-weak-hash
        Cipher c1 = Cipher.getInstance("DES/CBC/PKCS5Padding"); // expect: java-weak-cipher
        Cipher c2 = Cipher.getInstance("AES/ECB/PKCS5Padding"); // expect: java-weak-cipher
        Cipher c3 = Cipher.getInstance("AES"); // expect: java-weak-cipher
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance(); // expect: java-xxe-documentbuilder
        ObjectInputStream ois = new ObjectInputStream(in); // expect: java-unsafe-deserialization
        String resetToken = Long.toHexString(new Random().nextLong()); // expect: java-insecure-random
        String query = """
            SELECT * FROM users WHERE name = '%s'
            """;
        stmt.execute("DELETE FROM t WHERE id = " + // expect: java-sql-injection
            name);
        rs = stmt.executeQuery(String.format("SELECT * FROM t WHERE a = '%s'", name)); // expect: java-sql-injection
        new ProcessBuilder("sh", "-c", name).start(); // expect: java-command-injection
        String h = DigestUtils.md5Hex(name); // expect: java-weak-hash
        XMLInputFactory xif = XMLInputFactory.newFactory(); // expect: java-xxe-xmlinputfactory
        SAXParserFactory spf = SAXParserFactory.newInstance(); // expect: java-xxe-saxparser
        HttpsURLConnection.setDefaultHostnameVerifier(null);
        https.setHostnameVerifier((host, session) -> true); // expect: java-trust-all-hostnames
        SSLConnectionSocketFactory sf = new SSLConnectionSocketFactory(ctx, NoopHostnameVerifier.INSTANCE); // expect: java-trust-all-hostnames
        ObjectInputStream full = new java.io.ObjectInputStream(in); // expect: java-unsafe-deserialization
    }

    void lookalikes(Connection conn, String name) throws Exception {
        // stmt.executeQuery("SELECT * FROM users WHERE name = '" + name + "'");
        /* new ObjectInputStream(in); Cipher.getInstance("DES") */
        String s = "MessageDigest.getInstance(\"MD5\") and new ObjectInputStream(in)";
        String block = """
            Runtime.getRuntime().exec("sh -c " + name);
            """;
        char q = '"';
        PreparedStatement ps = conn.prepareStatement("SELECT * FROM users WHERE name = ?");
        ps.setString(1, name);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        SecureRandom rnd = new SecureRandom();
        byte[] token = new byte[32];
        rnd.nextBytes(token);
        Random jitter = new Random();
        Runtime.getRuntime().exec(new String[] {"ls", "-l"});
        new ProcessBuilder("ls", "-l", name).start();
        https.setHostnameVerifier((host, session) -> host.equals("example.com"));
        ResultSet one = stmt.executeQuery("SELECT 1");
        String f = String.format("%s", name);
        // SAXParserFactory.newInstance(); XMLInputFactory.newFactory()
        String n = "NoopHostnameVerifier.INSTANCE";
    }
}
