// Types by path: danfojs declares them only under package.json "exports", which the lib's
// moduleResolution "node" does not read; at run time require("danfojs") resolves normally.
export type Danfo = typeof import("danfojs/dist/danfojs-browser/src/index");
export type DataFrame = InstanceType<Danfo["DataFrame"]>;

/** danfojs, loaded on first use: it pulls in tfjs (≈1.5 s), which importing the lib should not cost. */
export function danfo(): Danfo {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require("danfojs");
}
