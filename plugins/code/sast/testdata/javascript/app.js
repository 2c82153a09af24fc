// Planted issues are marked "expect: <rule>"; every other line must stay silent.
const { exec, execSync, spawn } = require("child_process");
const crypto = require("crypto");
const https = require("https");

function planted(req, res, db, el, userInput) {
  eval(req.query.code); // expect: js-eval
  const fn = new Function("a", "return a + " + userInput); // expect: js-eval
  exec("ls " + req.query.dir); // expect: js-command-injection
  execSync(`git log ${req.query.ref}`); // expect: js-command-injection
  spawn("sh", ["-c", userInput], { shell: true }); // expect: js-command-injection
  db.query("SELECT * FROM users WHERE id = " + req.params.id); // expect: js-sql-injection
  db.query(`SELECT * FROM users WHERE name = '${req.query.name}'`); // expect: js-sql-injection
  el.innerHTML = userInput; // expect: js-dom-xss
  el.innerHTML = "<b>" + userInput + "</b>"; // expect: js-dom-xss
  document.write(location.hash); // expect: js-dom-xss
  const agent = new https.Agent({ rejectUnauthorized: false }); // expect: js-tls-verify-disabled
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // expect: js-tls-verify-disabled
  const h = crypto.createHash("md5").update(userInput).digest("hex"); // expect: js-weak-hash
  const c = crypto.createCipheriv("des-ede3-cbc", key, iv); // expect: js-weak-cipher
  const resetToken = Math.random().toString(36).slice(2); // expect: js-insecure-random
  return [fn, agent, h, c, resetToken];
}

function lookalikes(req, db, el, userInput) {
  // eval(req.query.code); el.innerHTML = userInput;
  /* exec("ls " + dir); document.write(x) */
  const s = "eval(userInput) and new Function('x')";
  const t = `el.innerHTML = ${JSON.stringify("x")}`;
  const re = /eval\(x\)|["']/g;
  eval("1 + 1");
  el.textContent = userInput;
  el.innerHTML = "<b>static</b>";
  el.innerText = userInput;
  document.title = userInput;
  db.query("SELECT * FROM users WHERE id = $1", [req.params.id]);
  db.query("SELECT 1");
  execFile("ls", ["-l", userInput]);
  spawn("ls", ["-l"]);
  /ab+c/.exec(userInput);
  const agent = new https.Agent({ rejectUnauthorized: true });
  const h = crypto.createHash("sha256").update(userInput).digest("hex");
  const c = crypto.createCipheriv("aes-256-gcm", key, iv);
  const token = crypto.randomBytes(32).toString("hex");
  const jitter = Math.random() * 100;
  return [s, t, re, agent, h, c, token, jitter];
}

module.exports = { planted, lookalikes };
