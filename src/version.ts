import packageJson from '../package.json'

/** Tollgate's version, from package.json at build time. */
export const VERSION: string = packageJson.version
