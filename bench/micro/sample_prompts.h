// Prompts the micro benchmarks share: a support passage with a question, as a RAG request sends.
#pragma once

#include <cstddef>
#include <string>

namespace sy::bench {

// A transit company's refund rules, repeated up to at least `min_bytes`, then a question.
inline std::string RefundPassage(size_t min_bytes) {
  std::string text =
      "Context:\n"
      "Section 4.2 Refunds. A ticket bought online may be refunded in full up to 24 hours "
      "before departure. After that, a refund of 50 percent is available until departure, "
      "minus a handling fee of 2 euros. Season passes are refunded pro rata for every full "
      "week not yet started, on request through the customer portal or at a ticket office. "
      "Section 4.3 Delays. When a train arrives more than 60 minutes late, passengers may "
      "claim 25 percent of the fare; above 120 minutes, 50 percent. Claims must be filed "
      "within three months and need the ticket number and a bank account. "
      "Section 4.4 Bicycles. Bicycles travel free outside the morning and evening peaks "
      "(06:30-09:00 and 16:30-18:30) on regional trains, subject to space. Folding bicycles "
      "count as luggage and may travel at any time. ";
  while (text.size() < min_bytes) text += text.substr(9, 300);
  return text +
         "\n\nQuestion: I bought a ticket online yesterday for a train that leaves in "
         "three days. Can I still get all my money back, and how do I ask for it?";
}

}  // namespace sy::bench
