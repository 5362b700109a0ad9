{
  "targets": [
    {
      "target_name": "xanes_blas",
      "sources": ["blas.cc"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu"],
      "libraries": ["-lopenblas"],
      "cflags_cc": ["-O3", "-fno-math-errno"]
    }
  ]
}
