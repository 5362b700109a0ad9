// N-API helpers shared by the addon's sources (blas.cc, trainer.cc).
#pragma once
#include <node_api.h>
#include <cstddef>

// Throw `msg` as a JS Error and return from the calling N-API function when `cond` fails.
#define CHECK(env, cond, msg)                  \
  do {                                         \
    if (!(cond)) {                             \
      napi_throw_error((env), nullptr, (msg)); \
      return nullptr;                          \
    }                                          \
  } while (0)

// The data and length of a Float32Array argument; false for anything else.
inline bool getFloat32(napi_env env, napi_value v, float** data, size_t* length) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr;
  napi_value buf;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &buf, &offset) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(ptr);
  return true;
}
