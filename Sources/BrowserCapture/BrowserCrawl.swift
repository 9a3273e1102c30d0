import ChainOfCustody
import Foundation
import LawfulFetch
import PageAnalysis

/// A page a browser capture is to load: a URL given (depth 0) or a link found in the
/// rendered DOM of a page it loaded.
struct BrowserVisit {
    var address: WebAddress
    var depth: Int
    var parent: String?
}

/// A crawl depth for browser captures: links are taken from the rendered DOM (what the
/// page's scripts made), on the same host unless other hosts are allowed, and beyond
/// depth 0 the host's robots.txt is fetched by the engine, archived and obeyed, as in a
/// plain crawl (DESIGN §14).
extension CaptureRun {
    mutating func links(of page: AnalyzedPage, from visit: BrowserVisit, engine: TransferEngine, policy: NetworkPolicy) throws(ExhibitError) -> [BrowserVisit] {
        let base = WebAddress(page.url) ?? visit.address
        var next: [BrowserVisit] = []
        for reference in page.links {
            guard let address = WebAddress(reference, base: base), address.isWeb, !address.hasUserInfo else { continue }
            if !options.otherHosts && address.origin != visit.address.origin { continue }
            guard !seen.contains(address.withoutFragment) else { continue }
            let rules = try robotsRules(for: address, engine: engine, policy: policy, depth: visit.depth + 1, parent: visit.address.text)
            seen.insert(address.withoutFragment)
            if rules.allows(path: Self.pathAndQuery(address)) {
                next.append(BrowserVisit(address: address, depth: visit.depth + 1, parent: visit.address.text))
            } else {
                report.skippedByRobots.append(address.text)
            }
        }
        return next
    }

    /// The host's robots.txt rules, fetched once per origin as a plain capture (role robots).
    mutating func robotsRules(for address: WebAddress, engine: TransferEngine, policy: NetworkPolicy, depth: Int, parent: String) throws(ExhibitError) -> RobotsRules {
        if let rules = robots[address.origin] { return rules }
        guard let robotsURL = WebAddress("/robots.txt", base: address) else { return .disallowAll }
        seen.insert(robotsURL.withoutFragment)
        engine.enqueue([startChain(robotsURL, role: .robots, depth: depth, parent: parent)])
        let progress = self.progress
        try engine.run { (request, outcome) throws(ExhibitError) -> [HopRequest] in
            try self.handle(request, outcome, policy: policy, progress: progress)
        }
        // The robots chain's end records the rules (CaptureRun.complete / finish).
        return robots[address.origin] ?? .disallowAll
    }
}
