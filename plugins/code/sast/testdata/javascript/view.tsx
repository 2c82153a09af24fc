// TypeScript/TSX: planted issues are marked "expect: <rule>".
import * as React from "react";

export function View(props: { html: string; id: number }): JSX.Element {
  const ref = React.useRef<HTMLDivElement>(null);
  if (ref.current) {
    ref.current.innerHTML = props.html; // expect: js-dom-xss
    ref.current.textContent = props.html;
  }
  const sessionId: string = Math.random().toString(16); // expect: js-insecure-random
  const label = `don't eval(${props.id})`;
  return <div title="it's eval(x)">{label} don't</div>;
}

export const run = (code: string): unknown => eval(code); // expect: js-eval
