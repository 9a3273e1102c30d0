public import FixtureServer

/// Runs `body` with a fixture site serving on `host`, and stops the site before
/// returning or rethrowing, so no test leaves a server running behind it (unlike
/// `defer { Task { await site.stop() } }`, which returns before the site is down).
///
/// ```swift
/// try await withFixtureSite(host: "127.0.0.3", siteDirectory: FixtureSite.defaultSiteDirectory) { site in
///     … capture site.baseURL + "/article.html" …
///     #expect(site.requests().count == 1)
/// }
/// ```
public func withFixtureSite<Result>(
    host: String = "127.0.0.1", port: Int = 0, siteDirectory: String?,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (FixtureSite) async throws -> Result
) async throws -> Result {
    let site = try await FixtureSite.start(host: host, port: port, siteDirectory: siteDirectory)
    do {
        let result = try await body(site)
        await site.stop()
        return result
    } catch {
        await site.stop()
        throw error
    }
}
