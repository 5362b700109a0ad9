/**
 * The study's configuration: one typed value holds the data source, mesh, descriptors (with their
 * options), split, model configs, baselines, ablation and seeds. `studyConfig(profile)` gives the
 * "quick" (tests) and "full" (reproduce) presets; the whole value is recorded in metrics.json.
 */
import { profile as currentProfile, type Profile } from "../config";
import type { SplitFractions } from "../data/splits";
import { DESCRIPTOR_NAMES } from "../descriptors/featurizer";
import type { DescriptorSpec } from "../descriptors/types";
import type { DEFAULT_MESHES, Normalisation } from "../spectra/mesh";
import { mlpConfig, type MlpConfig } from "../model/mlp";
import type { KnnConfig } from "../eval/baselines";

export interface StudyConfig {
  profile: Profile;
  dataset: {
    /** Folder under the shared data directory. */
    source: string;
    /** Materials read (sorted by id); null = all. */
    maxMaterials: number | null;
    mesh: keyof typeof DEFAULT_MESHES;
    /** Absorbing element and edge of the spectra (the descriptors centre on the element). */
    element: string;
    edge: string;
    normalisation: Normalisation;
  };
  descriptors: DescriptorSpec[];
  /** Grouped-by-material split: test 20 % as the study's 80/20; 10 % of materials for early stopping. */
  split: { fractions: SplitFractions; seed: number };
  /** Ablation nets; each run overrides the seed. */
  /** `lanes`: child processes the runs are spread over ("auto": 2 when a second core is idle, else 1). */
  ablation: { seeds: number[]; mlp: MlpConfig; lanes: "auto" | number };
  /** The final MLP; patienceCandidates are replayed from its own validation history (selectPatience). */
  final: {
    mlp: MlpConfig;
    patienceCandidates: number[];
    /**
     * Uncertainty band of the final net: Monte Carlo dropout samples (seeded), their spread calibrated
     * on the validation rows (lib/eval/uncertainty), coverage reported on test. A seed ensemble of
     * the final net does not fit the reproduce time budget; the benchmark reports one.
     */
    uncertainty: { samples: number; seed: number };
  };
  knn: KnnConfig;
  oxygen: OxygenConfig;
}

/** The O K-edge section (Li3FeO3.5): a small net, the data are ~100 training spectra. */
export interface OxygenConfig {
  source: string;
  mesh: keyof typeof DEFAULT_MESHES;
  mlp: MlpConfig;
  /** Fraction of training rows held out for early stopping. */
  valFraction: number;
  knn: KnnConfig;
}

/**
 * Sizes per profile. Full: ablation nets are smaller than the final net so 11 subsets × 5 seeds fit
 * the budget on 2 cores; the final net follows the study's shape (3 hidden layers).
 */
export function studyConfig(p: Profile = currentProfile()): StudyConfig {
  const quick = p === "quick";
  return {
    profile: p,
    // Mesh from 8983 eV so the pre-edge and rising edge are learnt (lib/spectra/mesh DEFAULT_MESHES);
    // edge-step normalisation as XAS practice defines it (pre-edge 0, post-edge 1), the scale a
    // measured spectrum is compared on. `max` stays an option.
    dataset: { source: "feff-cu-k-oxides", maxMaterials: quick ? 250 : null, mesh: "Cu-K", element: "Cu", edge: "K", normalisation: "edge-step" },
    descriptors: DESCRIPTOR_NAMES.map((name) => ({ name })),
    split: { fractions: { train: 0.7, val: 0.1, test: 0.2 }, seed: 42 },
    ablation: {
      seeds: quick ? [1] : [1, 2, 3, 4, 5],
      mlp: mlpConfig({ hidden: quick ? [32] : [128, 128], epochs: quick ? 2 : 50, patience: 8 }),
      lanes: "auto",
    },
    final: {
      // Patience measured: with 15 training stopped at epoch 37 (best 22); with 30 the same
      // trajectory reaches a lower validation loss at epoch 96 (test MSE 2.09e-3 → 1.92e-3). That
      // comparison looked at the test split too (mild selection); selectPatience redoes the choice
      // on the validation rows only (reported in metrics.json and notebook 04).
      mlp: mlpConfig({ hidden: quick ? [64, 64] : [512, 512, 256], dropout: quick ? 0 : 0.1, epochs: quick ? 3 : 200, patience: 30, seed: 42 }),
      patienceCandidates: [10, 15, 20, 30, 50, 100],
      uncertainty: { samples: quick ? 4 : 30, seed: 2024 },
    },
    knn: { kCandidates: [1, 3, 5, 10, 20], weightings: ["uniform", "distance"] },
    oxygen: {
      source: "li3feo3.5-o-k",
      mesh: "O-K-relative",
      mlp: mlpConfig({ hidden: quick ? [32] : [128, 64], epochs: quick ? 3 : 300, patience: 30, batchSize: 16, seed: 7 }),
      valFraction: 0.15,
      knn: { kCandidates: [3], weightings: ["uniform"] },
    },
  };
}
