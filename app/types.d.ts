// Types for the page's bundled modules and the state it exposes (read by test/app.test.ts and bench/app.ts).
declare module "plotly.js-dist" {
  const Plotly: {
    newPlot(el: HTMLElement, data: object[], layout?: object, config?: object): Promise<HTMLElement>;
    toImage(el: HTMLElement, opts: { format: "png" | "svg"; width: number; height: number; scale?: number }): Promise<string>;
  };
  export default Plotly;
}

/** esbuild's binary loader: the file's bytes. */
declare module "*.wasm" {
  const bytes: Uint8Array;
  export default bytes;
}

interface XanesAppBand {
  mean: Float64Array;
  std: Float64Array;
}

interface Window {
  /** Set by model-bundle.js when the build bundled a model folder. */
  XANES_BUNDLED_MODEL?: { name: string; files: { path: string; base64: string }[] };
  /** State the tests and the bench read (see app/main.ts). */
  xanes: {
    ready: Promise<void>;
    backend: string;
    modelName: string;
    members: unknown[];
    results: Record<string, { element: string; energy: Float64Array; classes: { sites: number[]; multiplicity: number; label: string; band: XanesAppBand }[]; average: XanesAppBand; timing: { featurizeMs: number; predictMs: number } }>;
    errors: Record<string, string>;
    predictFiles(files: { name: string; text: string }[]): Promise<void>;
    screen(
      target: { name: string; text?: string; bytes?: Uint8Array },
      candidates: { name: string; text: string }[],
      options?: { mode?: "measured" | "computed"; metric?: string; score?: string; broadening?: string; shiftWindow?: number; offset?: number; e0?: number; record?: string; mu?: string; column?: number },
    ): Promise<void>;
    screening?: {
      mode: "measured" | "computed";
      rows: { rank: number; id: string; score: number; scoreStd: number; shift: number; nSites: number; shiftAtEdge: boolean; sigma?: number; gamma?: number; broadeningAtEdge?: boolean }[];
      skipped: { id: string; reason: string }[];
      skippedFiles: { file: string; reason: string }[];
      timing: { totalMs: number; predictMs: number; scoreMs: number; sitesPredicted: number };
      measured?: { offset: number; offsetNote: string; e0: number; edgeStep: number; rule: string };
    };
    calibration?: { calibration: { offset: number }; file: string };
    screenError?: string;
  };
}
