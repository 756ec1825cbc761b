#include "tests/routing_eval/labelled.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "api/anthropic/prompt.h"
#include "api/json.h"
#include "api/openai/prompt.h"

namespace sy::routing_eval {

bool ReadLabelledFile(const std::string& path, std::string_view tool,
                      const std::function<void(std::unique_ptr<LabelledRequest>)>& take) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << tool << ": cannot read " << path << "\n";
    return false;
  }
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(line, ec);
    const auto* rec = !ec && parsed.is_object() ? &parsed.get_object() : nullptr;
    const auto* body = rec ? api::ObjectAt(*rec, "body") : nullptr;
    const auto label =
        rec ? routing::ParseTaskType(api::StringAt(*rec, "task_type")) : std::nullopt;
    if (!body || !label) {
      std::cerr << path << ":" << line_no << ": skipped (not a labelled record)\n";
      continue;
    }
    auto r = std::make_unique<LabelledRequest>();
    r->id = api::StringAt(*rec, "id");
    r->dialect = api::StringAt(*rec, "dialect");
    r->language = api::StringAt(*rec, "language");
    r->label = *label;
    r->body = *body;
    const auto& obj = r->body.get_object();
    const size_t bytes = boost::json::serialize(obj).size();
    r->prompt = r->dialect == "anthropic" ? api::anthropic::ReadMessagesPrompt(obj, bytes)
                                          : api::openai::ReadChatPrompt(obj, bytes);
    take(std::move(r));
  }
  return true;
}

std::string LastUserText(const core::Prompt& prompt, size_t max_bytes) {
  for (auto it = prompt.texts.rbegin(); it != prompt.texts.rend(); ++it) {
    if (it->role != core::PromptRole::kUser) continue;
    std::string text(it->text.substr(0, max_bytes));
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  }
  return "";
}

}  // namespace sy::routing_eval
