{
  "targets": [
    {
      "target_name": "xanes_blas",
      "sources": ["blas.cc", "trainer.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu"],
      "libraries": ["-lopenblas"],
      "cflags_cc": ["-O3", "-fno-math-errno", "-ffp-contract=off", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
