// Lets node import the web client's modules, which import each other by absolute path
// (`/client/api.js`, as the browser and web/tsconfig.json's `paths` see them): a resolve hook maps
// those specifiers, when a module under web/ asks, to the files in web/. Import this module
// first, then the web modules with a dynamic `import()`.

import { register } from 'node:module';

const WEB = new URL('../web/', import.meta.url).href;
const hook = `
const WEB = ${JSON.stringify(WEB)};
export async function resolve(specifier, context, next) {
  if (/^\\/[\\w-]+(\\/[\\w-]+)*\\.js$/.test(specifier) && context.parentURL && context.parentURL.startsWith(WEB)) {
    return next(WEB + specifier.slice(1), context);
  }
  return next(specifier, context);
}`;
register('data:text/javascript,' + encodeURIComponent(hook));
