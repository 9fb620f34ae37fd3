// Putting pictures together: side_by_side (a row of charts in one PNG) and labelled_grid
// (a table of pictures with a title above each column, e.g. input image | kernel maps).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "patchnet/core/error.hpp"
#include "patchnet/viz/canvas.hpp"

namespace patchnet::viz {

// The canvases left to right, `gap` white pixels apart, top-aligned on a white background.
inline Canvas side_by_side(const std::vector<Canvas>& canvases, int gap = 10) {
  PN_CHECK(!canvases.empty(), "side_by_side: no canvases");
  PN_CHECK(gap >= 0, "side_by_side: gap ", gap, " must be >= 0");
  int64_t width = int64_t{gap} * static_cast<int64_t>(canvases.size() - 1);
  int height = 0;
  for (const Canvas& c : canvases) {
    width += c.width();
    height = std::max(height, c.height());
  }
  PN_CHECK(width <= (1 << 20), "side_by_side: total width ", width, " is too large");
  Canvas out(static_cast<int>(width), height);
  int x = 0;
  for (const Canvas& c : canvases) {
    out.blit(c, x, 0);
    x += c.width() + gap;
  }
  return out;
}

// A table of pictures: rows[r][c] in row r, column c, with column_titles[c] (scale-1 text)
// centred above column c. Pictures of different sizes share one cell size, the largest
// width and height among them: each is enlarged by the largest whole factor that fits the
// cell (nearest neighbour, so a 8x8 map next to a 32x32 one becomes 32x32 with 4x4 blocks)
// and centred in it. A column is as wide as its title plus `gap` when that is wider. `gap`
// white pixels separate cells and surround the table. No titles: column_titles empty.
inline Canvas labelled_grid(const std::vector<std::vector<Canvas>>& rows, const std::vector<std::string>& column_titles,
                            int gap = 6) {
  PN_CHECK(!rows.empty(), "labelled_grid: no rows");
  PN_CHECK(gap >= 0, "labelled_grid: gap ", gap, " must be >= 0");
  const size_t cols = column_titles.empty() ? rows[0].size() : column_titles.size();
  PN_CHECK(cols > 0, "labelled_grid: no columns");
  int cell_w = 0, cell_h = 0;
  for (size_t r = 0; r < rows.size(); ++r) {
    PN_CHECK(rows[r].size() == cols, "labelled_grid: row ", r, " has ", rows[r].size(), " pictures, expected ", cols,
             column_titles.empty() ? " (as row 0)" : " (one per column title)");
    for (const Canvas& c : rows[r]) {
      cell_w = std::max(cell_w, c.width());
      cell_h = std::max(cell_h, c.height());
    }
  }
  std::vector<int> col_w(cols, cell_w);
  int title_h = 0;
  for (size_t c = 0; c < column_titles.size(); ++c) {
    col_w[c] = std::max(cell_w, Canvas::text_width(column_titles[c]) + gap);  // titles stay 2 gaps apart
    title_h = std::max(title_h, Canvas::text_height(column_titles[c]));
  }
  int64_t width = gap;
  for (int w : col_w) width += w + gap;
  const int64_t height =
      gap + (title_h > 0 ? title_h + gap / 2 : 0) + static_cast<int64_t>(rows.size()) * (cell_h + gap);
  PN_CHECK(width <= (1 << 20) && height <= (1 << 20), "labelled_grid: table of ", width, "x", height,
           " pixels is too large");
  Canvas out(static_cast<int>(width), static_cast<int>(height));
  int x = gap;
  for (size_t c = 0; c < cols; ++c) {
    if (c < column_titles.size())
      out.text(x + (col_w[c] - out.text_width(column_titles[c])) / 2, gap, column_titles[c], {0, 0, 0});
    int y = gap + (title_h > 0 ? title_h + gap / 2 : 0);
    for (size_t r = 0; r < rows.size(); ++r) {
      const Canvas& pic = rows[r][c];
      const int s = std::max(1, std::min(cell_w / pic.width(), cell_h / pic.height()));
      out.blit_scaled(pic, x + (col_w[c] - pic.width() * s) / 2, y + (cell_h - pic.height() * s) / 2, s);
      y += cell_h + gap;
    }
    x += col_w[c] + gap;
  }
  return out;
}

}  // namespace patchnet::viz
