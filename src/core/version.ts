declare const __SCHOLAR_VERSION__: string;

/** Scholar's version, injected from package.json by esbuild. */
export const SCHOLAR_VERSION: string = typeof __SCHOLAR_VERSION__ === 'string' ? __SCHOLAR_VERSION__ : '0.0.0-dev';
