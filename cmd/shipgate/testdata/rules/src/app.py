import os

# os.system(cmd) in a comment does not count
os.system("ls " + user_input)
