// Module resolve hook (node:module register): imports of src/**/*.ts go to the compiled .js.
let src;
let out;

export async function initialize(data) {
  src = data.src;
  out = data.out;
}

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.startsWith(src) && r.url.endsWith('.ts')) return { ...r, url: `${out}${r.url.slice(src.length, -3)}.js`, format: 'module' };
  return r;
}
