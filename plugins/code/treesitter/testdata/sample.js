const cp = require('child_process');
function f(x) {
  // eval(x)
  const s = `eval(${x})`;
  el.innerHTML = x;
  return eval(x);
}
