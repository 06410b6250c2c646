/** Builds one TypeScript source of this repository into the single file `outfile` (bundle.mjs). */
export function bundleFile(entry: string, outfile: string): Promise<string>
/** This repository's current CLI bundle: the cached one, or one made now. */
export function bundledCli(): Promise<string>
