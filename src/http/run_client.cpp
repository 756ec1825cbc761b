#include "http/run_client.h"

#include <exception>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "http/detail/client_internal.h"

namespace sy::http {

void RunClientTasks(const std::function<std::vector<Task<void>>(Client&)>& start) {
  boost::asio::io_context ioc;
  std::unique_ptr<Client> client = detail::MakeClient(ioc);
  std::vector<Task<void>> tasks = start(*client);
  size_t running = tasks.size();
  std::exception_ptr first_error;
  for (auto& task : tasks) {
    boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e) {
      if (e && !first_error) first_error = e;
      // Idle pooled connections keep the io_context busy: the last task closes them.
      if (--running == 0) client->Close();
    });
  }
  ioc.run();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace sy::http
