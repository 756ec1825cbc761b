// Plain-text and Markdown tables for the command-line reports (`spend`, `plan`).
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sy::core {

using TableRow = std::vector<std::string>;

struct TableStyle {
  bool total_rule = false;  // a line of dashes before the last row (the total)
  size_t text_columns = 1;  // the leading columns that are text (left-aligned)
};

// In both, a terminal control character in a cell (ESC, CR, DEL, U+009B, ...) is printed as its
// escape and a backslash doubled (core::EscapeControlCharacters): cells hold ledger strings, and
// a report must not let them drive the terminal or split rows.

// Columns padded to their widest cell, two spaces apart; text columns left-aligned, the others
// (numbers) right-aligned; no trailing spaces. Rows may have fewer cells than the first.
std::string AlignedTable(const std::vector<TableRow>& rows, TableStyle style = {});

// A GitHub-flavoured Markdown table: the first row is the header; the first `text_columns`
// columns are left-aligned, the others right-aligned. '|' in a cell is escaped, and a line break
// becomes a space.
std::string MarkdownTable(const std::vector<TableRow>& rows, size_t text_columns = 1);

}  // namespace sy::core
