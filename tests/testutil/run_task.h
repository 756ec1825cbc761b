// RunTask: runs one coroutine to completion on a private io_context, for unit tests of code
// written as http::Task coroutines. Aborts the test binary if it has not finished in `limit`.
#pragma once

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "http/task.h"

namespace sy::testutil {

template <typename T>
T RunTask(http::Task<T> task, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  boost::asio::io_context ioc;
  std::optional<T> out;
  std::exception_ptr error;
  auto store = [&]() -> http::Task<void> { out.emplace(co_await std::move(task)); };
  boost::asio::co_spawn(ioc, store(), [&](std::exception_ptr e) { error = e; });
  ioc.run_for(limit);
  if (error) std::rethrow_exception(error);
  if (!out) std::abort();  // the coroutine did not finish in time
  return std::move(*out);
}

}  // namespace sy::testutil
