// numpy arrays ⇄ tessera::Tensor for the Python bindings. Both directions copy: a numpy
// array may be strided, of another byte order or freed while tessera runs without the GIL,
// and what tessera returns should belong to the caller.
#pragma once

#include <cstring>
#include <string>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "tessera/core/error.hpp"
#include "tessera/core/tensor.hpp"

namespace tessera::python {

namespace py = pybind11;

// The tessera element type of a numpy dtype in native byte order; an Error naming `name` for
// any other. Compared by value: an array's dtype need not be numpy's singleton object.
inline DType dtype_from_numpy(const py::dtype& dt, const std::string& name) {
  if (!dt.attr("isnative").cast<bool>())
    fail("{}: numpy dtype {} is not in native byte order (use .astype(its native form))", name,
         py::cast<std::string>(py::str(static_cast<const py::handle&>(dt))));
  if (dt.equal(py::dtype::of<float>())) return DType::F32;
  if (dt.equal(py::dtype::of<double>())) return DType::F64;
  if (dt.equal(py::dtype::of<int64_t>())) return DType::I64;
  if (dt.equal(py::dtype::of<int32_t>())) return DType::I32;
  if (dt.equal(py::dtype::of<int16_t>())) return DType::I16;
  if (dt.equal(py::dtype::of<int8_t>())) return DType::I8;
  if (dt.equal(py::dtype::of<uint8_t>())) return DType::U8;
  if (dt.equal(py::dtype::of<bool>())) return DType::Bool;
  if (dt.equal(py::dtype("float16"))) return DType::F16;
  fail("{}: numpy dtype {} is not supported (float16/32/64, int8/16/32/64, uint8, bool)", name,
       py::cast<std::string>(dt.attr("name")));
}

inline py::dtype numpy_dtype(DType t) {
  switch (t) {
    case DType::F32: return py::dtype::of<float>();
    case DType::F64: return py::dtype::of<double>();
    case DType::F16: return py::dtype("float16");
    case DType::I64: return py::dtype::of<int64_t>();
    case DType::I32: return py::dtype::of<int32_t>();
    case DType::I16: return py::dtype::of<int16_t>();
    case DType::I8: return py::dtype::of<int8_t>();
    case DType::U8: return py::dtype::of<uint8_t>();
    case DType::Bool: return py::dtype::of<bool>();
    default: fail("a tensor of type {} has no numpy equivalent", dtype_name(t));
  }
}

// Anything numpy.asarray takes (an array, nested lists) → an owned Tensor of the same shape
// and element type. An empty list becomes an empty int64 array (numpy would say float64),
// so that "no ids" is reported as such, not as a wrong dtype. Needs the GIL.
inline Tensor tensor_from_numpy(const py::handle& value, const std::string& name) {
  py::array a = py::array::ensure(value, py::array::c_style);
  if (!a) {
    PyErr_Clear();
    fail("{}: expected an array or a (nested) list of numbers with rows of equal length, found {}", name,
         py::cast<std::string>(py::type::handle_of(value).attr("__name__")));
  }
  Shape shape(a.shape(), a.shape() + a.ndim());
  const DType dtype = a.size() == 0 ? DType::I64 : dtype_from_numpy(a.dtype(), name);
  Tensor t = Tensor::zeros(dtype, shape);
  if (a.size() != 0) std::memcpy(t.raw(), a.data(), t.nbytes());
  return t;
}

// An owned numpy array with a copy of `t`'s elements (dense tensors only). Needs the GIL.
inline py::array numpy_from_tensor(const Tensor& t) {
  std::vector<py::ssize_t> shape(t.shape().begin(), t.shape().end());
  py::array a(numpy_dtype(t.dtype()), shape);
  if (t.nbytes() != 0) std::memcpy(a.mutable_data(), t.raw(), t.nbytes());
  return a;
}

}  // namespace tessera::python
