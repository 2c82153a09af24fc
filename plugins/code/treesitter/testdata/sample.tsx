export const A = (p: {html: string}) => <div dangerouslySetInnerHTML={{__html: p.html}} />;
eval(p);
