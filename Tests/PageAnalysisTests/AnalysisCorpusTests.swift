import Foundation
import PageAnalysis
import Testing

/// The corpus in Fixtures/analysis: real-world-shaped pages (profiles, articles,
/// forums, listings, pages in several charsets), each with the extraction a user
/// expects, checked field by field.
@Suite("Page analysis: the Fixtures/analysis corpus")
struct AnalysisCorpusTests {
    static let directory: String = {
        // #filePath is …/Tests/PageAnalysisTests/AnalysisCorpusTests.swift.
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast(3)
        return (components + ["Fixtures", "analysis"]).joined(separator: "/")
    }()

    static let pages: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    @Test func theCorpusHasAtLeastThirtyPages() {
        #expect(Self.pages.count >= 30, "Fixtures/analysis holds \(Self.pages.count) pages")
    }

    @Test(arguments: pages)
    func extractionMatchesExpectations(page name: String) throws {
        let html = try Array(Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/\(name).html")))
        let spec = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(Self.directory)/\(name).json"))) as? [String: Any])
        let url = try #require(spec["url"] as? String)
        let expect = try #require(spec["expect"] as? [String: Any])
        let page = AnalyzedPage(html: html, url: url, contentType: spec["content_type"] as? String)

        func optional(_ key: String, _ actual: String?) {
            guard expect.keys.contains(key) else { return }
            #expect(actual == expect[key] as? String, "\(name): \(key)")
        }
        optional("charset", page.charset.declared)
        optional("title", page.title)
        optional("description", page.description)
        optional("canonical", page.canonicalURL)
        optional("published", page.publishedTime)
        if let openGraph = expect["open_graph"] as? [String: String] {
            #expect(page.openGraph == openGraph, "\(name): open_graph")
        }
        if let twitter = expect["twitter"] as? [String: String] {
            #expect(page.twitter == twitter, "\(name): twitter")
        }
        if let links = expect["links"] as? [String] {
            #expect(page.links == links, "\(name): links")
        }
        if let media = expect["media"] as? [String] {
            #expect(page.media == media, "\(name): media")
        }
        for phrase in expect["text_contains"] as? [String] ?? [] {
            #expect(page.text.contains(phrase), "\(name): text should contain “\(phrase)”")
        }
        for phrase in expect["text_excludes"] as? [String] ?? [] {
            #expect(!page.text.contains(phrase), "\(name): text should not contain “\(phrase)”")
        }
        if let selectors = expect["selectors"] as? [[String: String]] {
            let expected = Set(selectors.map { "\($0["kind"] ?? "")=\($0["value"] ?? "")" })
            let actual = Set(page.selectors.map { "\($0.kind.rawValue)=\($0.value)" })
            #expect(actual.subtracting(expected).sorted() == [], "\(name): selectors found but not expected")
            #expect(expected.subtracting(actual).sorted() == [], "\(name): selectors expected but not found")
        }
        // Every text selector's offset points at what was found there.
        let scalars = Array(page.text.unicodeScalars)
        for selector in page.selectors where selector.source == .text {
            let offset = try #require(selector.offset)
            let raw = Array(selector.raw.unicodeScalars)
            #expect(offset + raw.count <= scalars.count && Array(scalars[offset..<(offset + raw.count)]) == raw,
                    "\(name): \(selector.kind.rawValue) \(selector.raw) is not at offset \(offset)")
        }
    }
}
