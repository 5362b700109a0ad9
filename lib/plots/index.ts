// Plotly figures: one Figure object, shown inline in a notebook or written to PNG/SVG/HTML.
export * from "./figure";
export * from "./notebook";
export * from "./export";
