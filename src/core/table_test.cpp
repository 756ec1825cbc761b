#include "core/table.h"

#include <gtest/gtest.h>

namespace sy::core {
namespace {

TEST(AlignedTable, PadsTextLeftAndNumbersRightWithARuleBeforeTheTotal) {
  const std::vector<TableRow> rows = {
      {"model", "requests"}, {"gpt-5.5", "7"}, {"deepseek", "1200"}, {"TOTAL", "1207"}};
  EXPECT_EQ(AlignedTable(rows, {.total_rule = true}),
            "model     requests\n"
            "gpt-5.5          7\n"
            "deepseek      1200\n"
            "------------------\n"
            "TOTAL         1207\n");
}

TEST(MarkdownTable, EscapesPipesAndAlignsNumbersRight) {
  EXPECT_EQ(MarkdownTable({{"model", "cost"}, {"a|b", "0.5"}}),
            "| model | cost |\n"
            "|---|---:|\n"
            "| a\\|b | 0.5 |\n");
}

// Audit 3: `spend`, `outcomes`, `plan` and `shadow report` printed ledger strings raw, so an
// ESC sequence in a damaged ledger drove the terminal and a line break split a row.
TEST(AlignedTable, PrintsControlCharactersAsEscapes) {
  const std::vector<TableRow> rows = {{"model", "n"}, {"evil\x1b[31mRED\nrow\r\x7f", "1"}};
  EXPECT_EQ(AlignedTable(rows),
            "model                           n\n"
            "evil\\x1b[31mRED\\x0arow\\x0d\\x7f  1\n");
}

TEST(MarkdownTable, PrintsControlCharactersAsEscapesAndLineBreaksAsSpaces) {
  EXPECT_EQ(MarkdownTable({{"model"}, {"a\x1b[2J\nb|\xc2\x9b"}}),
            "| model |\n"
            "|---|\n"
            "| a\\x1b[2J b\\|\\u009b |\n");
}

// An escape in the output cannot be taken for one in the text: a backslash is doubled.
TEST(AlignedTable, DoublesABackslashSoAnEscapeIsUnambiguous) {
  EXPECT_EQ(AlignedTable({{"a\\x1b", "\x1b"}}, {.text_columns = 2}), "a\\\\x1b  \\x1b\n");
}

}  // namespace
}  // namespace sy::core
