# Planted issues are marked "expect: <rule>"; every other line must stay silent.
import hashlib
import os
import pickle
import random
import secrets
import subprocess

import requests
import yaml


def planted(cursor, name, cmd, data, user_code):
    cursor.execute("SELECT * FROM users WHERE name = '" + name + "'")  # expect: python-sql-injection
    cursor.execute("SELECT * FROM users WHERE name = '%s'" % name)  # expect: python-sql-injection
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")  # expect: python-sql-injection
    cursor.execute("DELETE FROM t WHERE id = {}".format(name))  # expect: python-sql-injection
    subprocess.run(cmd, shell=True)  # expect: python-subprocess-shell
    subprocess.check_output(  # expect: python-subprocess-shell
        cmd,
        shell=True,
    )
    os.system("rm -rf " + cmd)  # expect: python-os-system
    eval(user_code)  # expect: python-eval
    exec(compile(user_code, "x", "exec"))  # expect: python-eval
    obj = pickle.loads(data)  # expect: python-unsafe-deserialization
    cfg = yaml.load(data)  # expect: python-yaml-load
    cfg = yaml.load(data, Loader=yaml.Loader)  # expect: python-yaml-load
    requests.get("https://example.com", verify=False)  # expect: python-tls-verify-disabled
    h = hashlib.md5(data).hexdigest()  # expect: python-weak-hash
    h = hashlib.new("sha1", data)  # expect: python-weak-hash
    reset_token = str(random.random())  # expect: python-insecure-random
    password = "".join(random.choice("abc") for _ in range(12))  # expect: python-insecure-random
    query = f"""
        SELECT * FROM users WHERE name = '{name}'
    """
    cursor.execute(f'''SELECT {name}''')  # expect: python-sql-injection
    return obj, cfg, h, query


def lookalikes(cursor, name, cmd, data):
    # eval(user_code) and subprocess.run(cmd, shell=True) in a comment
    doc = "eval(user_code); os.system('rm ' + x); pickle.loads(data)"
    more = """
    cursor.execute("SELECT " + name)
    yaml.load(data)
    """
    more2 = f'{"hashlib.md5(x)"} {name}'
    cursor.execute("SELECT * FROM users WHERE name = %s", (name,))
    cursor.execute("SELECT * FROM users WHERE id = 1")
    subprocess.run(["ls", "-l", cmd])
    subprocess.run(["ls"], shell=False)
    os.system("ls -l")
    eval("1 + 2")
    model.eval()
    df.eval(expr)
    cfg = yaml.safe_load(data)
    cfg = yaml.load(data, Loader=yaml.SafeLoader)
    cfg = yaml.load(data, Loader=yaml.CSafeLoader)
    requests.get("https://example.com", verify=True)
    h = hashlib.sha256(data).hexdigest()
    h = hashlib.md5(data, usedforsecurity=False).hexdigest()
    token = secrets.token_hex(16)
    jitter = random.random()
    delay = random.randint(1, 10)
    return doc, more, more2, cfg, h, token, jitter, delay
