import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// `/test/watched`: a page whose content is the version a test sets, not the
/// clock, for watches' change records (DESIGN §18, issue 21):
///
/// 1. the original post (two images);
/// 2. one sentence edited and a phone number added;
/// 3. as 2 with one image removed;
/// 4. a 404;
/// 5. a platform's "This content isn't available" notice with status 200.
///
/// Connection refused (the sixth step of the tests) is the site stopped.
final class WatchedPage: Sendable {
    private let current = NIOLockedValueBox(1)

    var version: Int {
        get { current.withLockedValue { $0 } }
        set { current.withLockedValue { $0 = newValue } }
    }

    func response() -> Response {
        switch version {
        case 1: return FixtureResponder.html(.ok, Self.post(gate: "north", day: "Friday", phone: false, banner: true))
        case 2: return FixtureResponder.html(.ok, Self.post(gate: "south", day: "Saturday", phone: true, banner: true))
        case 3: return FixtureResponder.html(.ok, Self.post(gate: "south", day: "Saturday", phone: true, banner: false))
        case 4: return FixtureResponder.notFound()
        default: return FixtureResponder.html(.ok, Self.unavailable)
        }
    }

    static func post(gate: String, day: String, phone: Bool, banner: Bool) -> String {
        """
        <!DOCTYPE html>
        <html><head><title>Community board: meeting point</title></head>
        <body>
        <h1>Community board: meeting point</h1>
        <p>Meet at the \(gate) gate of Riverside Park on \(day) at noon.</p>
        <p>Bring the banners we painted last week.</p>
        \(phone ? "<p>Rides: call +1 202-555-0143 before Thursday.</p>\n" : "")<img src="/test/watched-media/crowd.jpg" alt="">
        \(banner ? "<img src=\"/test/watched-media/banner.png\" alt=\"\">\n" : "")<p>Posted by river_watcher.</p>
        </body></html>

        """
    }

    static let unavailable = """
        <!DOCTYPE html>
        <html><head><title>Content not available</title></head>
        <body>
        <h2>This content isn't available right now</h2>
        <p>When this happens, it's usually because the owner only shared it with a small group of people, changed who can see it or it's been deleted.</p>
        </body></html>

        """
}

extension FixtureSite {
    /// The version `/test/watched` serves (1–5; see ``WatchedPage``).
    public var watchedPageVersion: Int {
        get { watched.version }
        set { watched.version = newValue }
    }
}
