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

/// ``withFixtureSite(host:port:siteDirectory:isolation:_:)`` for several sites at once,
/// one per host, all serving `siteDirectory`; every site that started is stopped before
/// this returns or rethrows.
public func withFixtureSites<Result>(
    hosts: [String], siteDirectory: String?,
    isolation: isolated (any Actor)? = #isolation,
    _ body: ([FixtureSite]) async throws -> Result
) async throws -> Result {
    var sites: [FixtureSite] = []
    do {
        for host in hosts { sites.append(try await FixtureSite.start(host: host, siteDirectory: siteDirectory)) }
        let result = try await body(sites)
        for site in sites { await site.stop() }
        return result
    } catch {
        for site in sites { await site.stop() }
        throw error
    }
}

/// Runs `body` with a server that is already running and awaits `stop` before returning
/// or rethrowing: the scoped teardown for the servers that are not fixture sites (the
/// case browser, the replay server, a local TSA).
///
/// ```swift
/// try await withStopping(try await ReplayServer.start(archive: archive), stop: { await $0.stop() }) { server in
///     … fetch server.url …
/// }
/// ```
public func withStopping<Server: Sendable, Result>(
    _ server: Server, stop: (Server) async -> Void,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Server) async throws -> Result
) async throws -> Result {
    do {
        let result = try await body(server)
        await stop(server)
        return result
    } catch {
        await stop(server)
        throw error
    }
}
