// Types for scripts/percent-to-ipynb.mjs (imported by test/notebooks.test.ts).
export interface NotebookCell {
  cell_type: "markdown" | "code";
  id: string;
  metadata: Record<string, unknown>;
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, any>;
  nbformat: number;
  nbformat_minor: number;
}
export const TSLAB_METADATA: Notebook["metadata"];
export function percentToNotebook(text: string, sourceName?: string): Notebook;
export function notebookToPercent(nb: Notebook): string;
export function clearOutputs(nb: Notebook): boolean;
