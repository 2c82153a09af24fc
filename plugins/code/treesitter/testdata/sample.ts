function f(x: string): number {
  const y = <number>(x as any);
  return eval(x);
}
