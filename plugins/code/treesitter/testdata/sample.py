import os, subprocess

def run(cmd, data):
    # os.system(cmd) in a comment
    s = "os.system(cmd) in a string"
    os.system("ls " + cmd)
    subprocess.run(cmd,
                   shell=True)
    return eval(data)
