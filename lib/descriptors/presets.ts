/**
 * Named descriptor sets.
 * - study: the five descriptors of the reproduced study (composition, atomic, rdf, coulomb, ofm);
 * - extended: the five plus additions physics suggests for the near-edge region (each ablated in
 *   docs/benchmark/omnixas-selection.json).
 */
import { DESCRIPTOR_NAMES, EXTENDED_DESCRIPTOR_NAMES } from "./featurizer";

export const DESCRIPTOR_PRESETS: Readonly<Record<string, readonly string[]>> = {
  study: DESCRIPTOR_NAMES,
  extended: [...DESCRIPTOR_NAMES, ...EXTENDED_DESCRIPTOR_NAMES],
};

/** The descriptor names of a preset; an unknown preset is an Error listing the known ones. */
export function presetDescriptors(name: string): string[] {
  const p = DESCRIPTOR_PRESETS[name];
  if (!p) throw new Error(`unknown descriptor preset "${name}" (known: ${Object.keys(DESCRIPTOR_PRESETS).join(", ")})`);
  return [...p];
}
