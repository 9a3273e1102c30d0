@testable import CaseBundle
import ChainOfCustody
import Foundation
import Testing

/// Court documents show each ledger time in the agency's zone; the wall-clock time must be
/// what a formatter in that zone prints, across daylight-saving changes and odd offsets.
@Suite("court zone times")
struct CourtZoneTests {
    @Test("local times equal a DateFormatter's in zones with DST, half-hour and 45-minute offsets")
    func localTimesMatchFormatter() throws {
        let zones = ["UTC", "America/Chicago", "Europe/Berlin", "Asia/Kolkata", "Australia/Lord_Howe",
                     "Pacific/Chatham", "America/St_Johns", "Pacific/Kiritimati"]
        // Around the 2026 transitions of Chicago (8 Mar, 1 Nov) and Berlin (29 Mar, 25 Oct), the
        // Lord Howe half-hour shift (5 Apr), a leap day and the start of the epoch's 21st century.
        let times = ["2026-03-08T07:59:59.000000Z", "2026-03-08T08:00:00.000000Z",
                     "2026-11-01T06:59:59.123456Z", "2026-11-01T07:00:00.000000Z",
                     "2026-03-29T00:59:59.000000Z", "2026-03-29T01:00:00.000000Z",
                     "2026-10-25T00:30:00.000000Z", "2026-04-04T14:59:59.000000Z",
                     "2026-04-04T15:00:00.000000Z", "2024-02-29T23:30:00.000000Z",
                     "2000-01-01T00:00:00.000000Z", "2026-12-31T23:59:59.999999Z"]
        for name in zones {
            let tz = try #require(TimeZone(identifier: name))
            let zone = CourtZone(name: name, source: "test", zone: tz)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = tz
            formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
            for time in times {
                let seconds = try #require(LedgerTime.seconds(of: time))
                let shown = zone.local(time)
                let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
                #expect(shown.hasPrefix(expected + " \(name) ("), "\(name) \(time): \(shown) vs \(expected)")
            }
        }
    }

    @Test("a malformed time is shown as written")
    func malformedTime() {
        let zone = CourtZone(name: "UTC", source: "test", zone: TimeZone(identifier: "UTC")!)
        #expect(zone.local("yesterday") == "yesterday")
    }
}
