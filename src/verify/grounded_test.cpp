#include "verify/grounded.h"

#include <iterator>

#include <gtest/gtest.h>

namespace sy::verify {
namespace {

constexpr const char* kInvoice =
    "Invoice INV-2291 from Northwind Traders to Contoso Ltd, issued 3 March 2025, due "
    "2025-04-02. Items: 120 units of cable at $14.50, total $1,740.00. Contact: Maria Lopez.";
constexpr const char* kNews =
    "BERLIN - Siemens Energy said on Tuesday that orders rose 12.5% to 14.3 billion euros in the "
    "third quarter. Chief executive Christian Bruch said demand from grid operators remained "
    "strong. The company employs about 92,000 people and will report again on November 14, 2025.";
constexpr const char* kTool =
    "{\"city\":\"Oslo\",\"temperature_c\":17.2,\"humidity\":64,\"observed\":\"2024-06-01\","
    "\"station\":\"Blindern\"}";
constexpr const char* kTable =
    "| region | 2023 revenue | 2024 revenue |\n| Nordics | 4,210 | 4,980 |\n| Benelux | 3,150 | "
    "2,870 |\nSource: Halvorsen Institute annual report.";
constexpr const char* kPlain =
    "Our return policy lets customers send items back within thirty "
    "days. Refunds go to the original payment method.";
constexpr const char* kUngrounded =
    "According to Dr. Elena Marchetti of the Halvorsen Institute, revenue grew 37.4% to $812 "
    "million in 2019, with 14,250 new customers across 23 countries.";

struct Case {
  const char* context;
  const char* answer;
  bool grounded;  // support >= 0.8
};

const Case kCases[] = {
    // numbers: both ways, with separators, amounts, percentages
    {kInvoice, "The invoice total is $1,740.00 for 120 units.", true},
    {kInvoice, "The invoice total is $1740 for 120 units.", true},
    {kInvoice, "The invoice total is $1,940.00 for 120 units.", false},
    {kInvoice, "Each unit costs $14.50.", true},
    {kInvoice, "Each unit costs $15.50 and 240 units were sold.", false},
    {kNews, "Orders rose 12.5% in the quarter.", true},
    {kNews, "Orders rose 13.5% in the quarter.", false},
    {kNews, "Orders reached 14.3 billion euros.", true},
    {kNews, "Orders reached 17.8 billion euros.", false},
    {kNews, "The company has about 92,000 employees.", true},
    {kNews, "The company has about 95,000 employees.", false},
    {kTool, "It is 17.2 degrees with 64% humidity.", true},
    {kTool, "It is 19.5 degrees with 80% humidity.", false},
    {kTable, "Nordics revenue rose from 4,210 to 4,980.", true},
    {kTable, "Benelux revenue fell from 3,150 to 2,870.", true},
    {kTable, "Benelux revenue fell from 3,150 to 2,500.", false},
    {"Revenue was $812,000,000 last year.", "Revenue was $812 million.", true},
    {"Revenue was 812 million dollars.", "Revenue was $812 million.", true},
    {"Revenue was 640 million dollars.", "Revenue was $812 million.", false},
    // dates: the three spellings agree; a wrong day does not
    {kInvoice, "It was issued on 2025-03-03.", true},
    {kInvoice, "It was issued on March 3, 2025 and is due 2 April 2025.", true},
    {kInvoice, "It was issued on March 5, 2025.", false},
    {kNews, "The next report is on 14 November 2025.", true},
    {kNews, "The next report is on 2025-11-14.", true},
    {kNews, "The next report is on 2025-11-21.", false},
    {kTool, "Observed on June 1, 2024 at the station.", true},
    {kTool, "Observed on June 3, 2024 at the station.", false},
    // bare years are numbers
    {kTable, "In 2024 the Nordics grew.", true},
    {kTable, "In 2021 the Nordics grew.", false},
    // names
    {kInvoice, "The seller is Northwind Traders and the contact is Maria Lopez.", true},
    {kInvoice, "The seller is Fabrikam Industries and the contact is John Smith.", false},
    {kNews, "Christian Bruch said grid demand was strong.", true},
    {kNews, "Joe Kaeser said grid demand was strong.", false},
    {kTool, "The reading in Oslo came from Blindern.", true},
    {kTool, "The reading in Bergen came from Florida.", false},
    {kTable, "This comes from the Halvorsen Institute.", true},
    {kTable, "This comes from the Brookings Institution.", false},
    // no claims: passes (the emulator's normal prose), small list numbers are ignored
    {kPlain, "Customers can send items back within thirty days. Refunds go to the card.", true},
    {kPlain, "Step 1: pack the item. Step 2: print the label. Step 3: ship it.", true},
    {kNews, "Sure. The quarter went well and demand stayed strong overall.", true},
    // the emulator's `ungrounded` fault, against any normal context
    {kInvoice, kUngrounded, false},
    {kNews, kUngrounded, false},
    {kPlain, kUngrounded, false},
    {kTable, kUngrounded, false},  // the institute is there, nothing else is
};

static_assert(std::size(kCases) >= 40, "the labelled set keeps at least 40 cases");

TEST(GroundedTest, LabelledSet) {
  for (const auto& c : kCases) {
    const auto r = CheckGrounded(c.context, c.answer);
    std::string missing;
    for (const auto& m : r.missing) missing += "[" + m + "]";
    EXPECT_EQ(r.support() >= 0.8, c.grounded)
        << "answer: " << c.answer << "\nsupport " << r.support() << " of " << r.claims
        << " missing " << missing;
  }
}

TEST(GroundedTest, UngroundedClaimsAreNamed) {
  const auto r = CheckGrounded(kPlain, kUngrounded);
  EXPECT_EQ(r.claims, 7u);
  EXPECT_EQ(r.found, 0u);
  const std::vector<std::string> want = {
      "Elena Marchetti", "Halvorsen Institute", "37.4%", "$812 million", "2019", "14,250", "23"};
  EXPECT_EQ(r.missing, want);
}

TEST(GroundedTest, NoClaimsIsFullSupport) {
  const auto r = CheckGrounded("", "The answer is short. It has no figures at all.");
  EXPECT_EQ(r.claims, 0u);
  EXPECT_EQ(r.support(), 1.0);
}

}  // namespace
}  // namespace sy::verify
