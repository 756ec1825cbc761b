// Identical: two JSON values the same down to their number kinds, which operator== does not
// tell apart (an int64 and a uint64 of the same value compare equal). For tests and fuzz
// targets that hold a reader to json::parse's own result.
#pragma once

#include <cstddef>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sy::testutil {

// The same kinds all the way down, and the same text (the same double to the last bit, the same
// keys in the same order).
inline bool Identical(const boost::json::value& a, const boost::json::value& b) {
  if (a.kind() != b.kind() || boost::json::serialize(a) != boost::json::serialize(b)) return false;
  if (const auto* obj = a.if_object()) {
    auto j = b.get_object().begin();
    for (auto i = obj->begin(); i != obj->end(); ++i, ++j) {
      if (i->key() != j->key() || !Identical(i->value(), j->value())) return false;
    }
  } else if (const auto* arr = a.if_array()) {
    for (std::size_t i = 0; i < arr->size(); ++i) {
      if (!Identical((*arr)[i], b.get_array()[i])) return false;
    }
  }
  return true;
}

}  // namespace sy::testutil
