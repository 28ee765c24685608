// Text conversions behind Octostache's Markdown and UriPart filters. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cuttle::engine::octostache {

// Markdown to HTML in the shape Markdig (Octostache's renderer) writes: CommonMark blocks
// (paragraphs, ATX and setext headings, lists, block quotes, fenced and indented code, rules),
// inline emphasis, strikethrough, code, links, images, autolinks of bare URLs, and pipe tables.
// Raw HTML is escaped, not passed through.
std::string MarkdownToHtml(std::string_view markdown);

// One property of a URI as .NET's System.Uri reports it (`Host`, `Port`, `PathAndQuery`...), or
// Octostache's `[UriPart <part> error: ...]` text. nullopt when the text is no URI at all.
std::optional<std::string> UriPart(std::string_view uri, std::string_view part);

}  // namespace cuttle::engine::octostache
