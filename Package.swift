// swift-tools-version:6.1
//
// Exhibit: evidence collection toolkit. The layout is fixed by DESIGN.md §1:
// four C targets (libcurl, libxml2, OpenSSL, zlib) under small Swift modules with one
// job each, and a command-line tool that only parses arguments and prints.

import PackageDescription

// Hummingbird's own dependencies, which our servers import directly (DESIGN §15: Package.swift
// declares every module a target imports). Their versions are the ones Package.resolved pins.
let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
let nioConcurrencyHelpers: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "Exhibit",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "exhibit", targets: ["ExhibitCLI"]),
        .executable(name: "exhibit-bench", targets: ["ExhibitBench"]),
        .library(name: "CaseManagement", targets: ["CaseManagement"]),
        .library(name: "ChainOfCustody", targets: ["ChainOfCustody"]),
        .library(name: "LawfulFetch", targets: ["LawfulFetch"]),
        .library(name: "BrowserCapture", targets: ["BrowserCapture"]),
        .library(name: "WARC", targets: ["WARC"]),
        .library(name: "PageAnalysis", targets: ["PageAnalysis"]),
        .library(name: "Screening", targets: ["Screening"]),
        .library(name: "CaseIndex", targets: ["CaseIndex"]),
        .library(name: "CaseBundle", targets: ["CaseBundle"]),
        .library(name: "CaseBrowser", targets: ["CaseBrowser"]),
        .library(name: "CaseReplay", targets: ["CaseReplay"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // C layer: typed, prefixed wrappers over variadic calls and macros (DESIGN §13).
        // libcurl is opened on first use (dlopen), not linked: the ~25 libraries it needs
        // were a third of the start of every command, most of which make no network call.
        .target(name: "CCurl"),
        // zlib for WARC's one-gzip-member-per-record files and HTTP content codings
        // (DESIGN §15 calls it CZlib; ZIPFoundation already defines a module CZlib).
        .target(
            name: "CExhibitZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        .target(
            name: "CLibXML2",
            // Only the .c file sees libxml2's headers; the public header is opaque,
            // so Foundation's ICU never meets libxml2's ICU in one module (DESIGN §13).
            cSettings: [.unsafeFlags(["-I/usr/include/libxml2"])],
            linkerSettings: [.linkedLibrary("xml2")]
        ),
        .target(
            name: "COpenSSL",
            linkerSettings: [.linkedLibrary("crypto"), .linkedLibrary("ssl")]
        ),
        // JPEG, PNG and WebP to RGB8 for perceptual hashing (libjpeg-turbo, libpng,
        // libwebp), with a pixel limit and setjmp error handling (docs/media.md).
        .target(
            name: "CImageDecode",
            linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png"), .linkedLibrary("webp")]
        ),

        // Swift layer.
        .target(name: "ChainOfCustody", dependencies: ["COpenSSL"]),
        // The WARC 1.1 evidence format below the case (DESIGN §15): read, write and
        // verify records, gzip members, CDXJ, HTTP heads. Every reader of evidence
        // imports this, not the network engine.
        .target(name: "WARC", dependencies: ["ChainOfCustody", "CExhibitZlib"]),
        .target(name: "CaseManagement", dependencies: ["ChainOfCustody", "WARC"]),
        // Media forensics (DESIGN §19): metadata through bounded exiftool/ffprobe runs,
        // PDQ perceptual hashes of images and video keyframes.
        .target(
            name: "MediaForensics",
            dependencies: ["ChainOfCustody", "CImageDecode"],
            // Optimised in debug builds too: PDQ filters every pixel of a photo twice.
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        .target(
            name: "PageAnalysis",
            dependencies: ["CLibXML2", "ChainOfCustody"],
            // Optimised in debug builds too: the tests feed it 50 MB hostile pages,
            // and unoptimised Swift walks a million-node tree ten times slower.
            swiftSettings: [.unsafeFlags(["-O"])]
        ),
        // Protected-class screening (DESIGN §15, §23): the lexicons, the normalised text
        // scanner that finds their terms, and bodies decoded into the words a reader sees.
        .target(name: "Screening", dependencies: ["PageAnalysis", "ChainOfCustody"]),
        // Headless Chromium over the DevTools pipe (its process, a command/event client, a
        // closed proxy port): used by replay renders and by browser capture (DESIGN §17).
        .target(name: "Chromium", dependencies: ["ChainOfCustody"]),
        .target(name: "LawfulFetch", dependencies: ["CCurl", "COpenSSL", "ChainOfCustody", "WARC", "CaseManagement", "PageAnalysis"]),
        // Browser capture (DESIGN §17): pages load in headless Chromium while every request
        // they make is fetched by LawfulFetch's engine under its policy (package access).
        .target(name: "BrowserCapture", dependencies: ["LawfulFetch", "Chromium", "WARC", "CaseManagement", "PageAnalysis", "ChainOfCustody"]),
        // The workspace index (index.sqlite): a cache of cases, artifacts, selectors
        // and page text, rebuilt from the ledgers and WARC files alone (DESIGN §2, §7).
        .target(
            name: "CaseIndex",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "WARC", "PageAnalysis", "Screening",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Bundles for recipients without Exhibit: BagIt, WACZ, CASE/UCO provenance,
        // the human report and the load file; and verification of bundles (DESIGN §9).
        .target(
            name: "CaseBundle",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "WARC", "CaseIndex", "Screening", "MediaEvidence", "MediaForensics",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ]
        ),
        // Watches (DESIGN §18): scheduled re-capture of a URL through the capture job, with
        // a signed `change` entry comparing each capture with the previous one.
        .target(name: "Watches", dependencies: ["CaseManagement", "ChainOfCustody", "LawfulFetch", "BrowserCapture", "PageAnalysis", "CaseIndex"]),
        // The one loopback Hummingbird server (DESIGN §15): start on an address literal in
        // 127.0.0.0/8 or ::1 with port hand-off, blocking start, stop and a Dispatch executor,
        // shared by the fixture site, replay and the case browser.
        .target(
            name: "LoopbackServer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird"), nioCore, nioConcurrencyHelpers, logging, serviceLifecycle]
        ),
        // Replay of a case's captures from its WARC files on loopback only, and
        // screenshots of them through headless Chromium (issue 10).
        .target(
            name: "CaseReplay",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "WARC", "LoopbackServer", "Chromium",
                .product(name: "Hummingbird", package: "hummingbird"), httpTypes, nioCore, nioConcurrencyHelpers,
            ]
        ),
        // `exhibit serve`: the local case browser, a Hummingbird app on loopback only
        // that shows cases, artifacts and their replay, and runs verify and export.
        .target(
            name: "CaseBrowser",
            dependencies: [
                "CaseManagement", "CaseIndex", "CaseBundle", "CaseReplay", "WARC", "ChainOfCustody", "LoopbackServer", "MediaEvidence", "MediaForensics",
                .product(name: "Hummingbird", package: "hummingbird"), httpTypes, nioCore,
            ]
        ),
        // The loopback web site that `exhibit demo` captures and the tests serve:
        // Fixtures/site plus routes that misbehave on purpose (redirect loops,
        // stalls, chunked and gzip bodies), with a log of every request received.
        .target(
            name: "FixtureServer",
            dependencies: ["ChainOfCustody", "LoopbackServer", .product(name: "Hummingbird", package: "hummingbird"), httpTypes, nioCore, nioConcurrencyHelpers]
        ),
        // Media evidence: the media analysis of a case sealed as metadata records and a
        // `media-analysis` entry, and the workspace's PDQ index for `exhibit similar`.
        .target(
            name: "MediaEvidence",
            dependencies: [
                "MediaForensics", "CaseManagement", "CaseIndex", "ChainOfCustody", "WARC",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The evidence server (DESIGN §22): the agency's copy of record on PostgreSQL, with
        // signed requests (RFC 9421), fast-forward pushes and signed receipts; and its client.
        .target(
            name: "EvidenceServer",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "CaseIndex", "PageAnalysis", "LoopbackServer", "LawfulFetch",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), httpTypes, nioCore, logging, serviceLifecycle,
            ]
        ),
        .executableTarget(
            name: "ExhibitCLI",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "LawfulFetch", "BrowserCapture", "CaseIndex", "Screening", "CaseBundle", "CaseBrowser", "CaseReplay", "FixtureServer", "Watches", "MediaEvidence", "MediaForensics", "EvidenceServer", "LoopbackServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // The release `exhibit` carries the Swift runtime and Foundation inside it
            // (-static-stdlib): the dynamic loader then binds none of its 15,000 Swift symbol
            // references at start-up and maps 14 libraries fewer (`exhibit search` over
            // 100,000 pages: 35 -> 27 ms of CPU, issue 25). Foundation's own C parts are named here because
            // the driver does not extract autolink entries from static archives. Debug
            // builds and the tests keep the shared runtime. lld packs the executable's 188,000
            // relative relocations as DT_RELR (glibc 2.36): 3.4 MB of .rela.dyn become 28 KB
            // that ld.so reads at every start (a failing command 8.1 -> 7.7 ms of CPU, issue 25).
            linkerSettings: [
                .unsafeFlags(
                    ["-static-stdlib", "-lCoreFoundation", "-l_FoundationICU", "-l_FoundationCShims", "-l_FoundationCollections",
                     "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"],
                    .when(platforms: [.linux], configuration: .release)
                ),
            ]
        ),
        // What `make bench` times against openssl and xmllint (docs/benchmarks.md), and
        // protected-class screening with and without its normalisation.
        .executableTarget(name: "ExhibitBench", dependencies: ["ChainOfCustody", "PageAnalysis", "Screening", "MediaForensics", "MediaEvidence"]),
        // libFuzzer targets (`make fuzz`); an ordinary build gets a stub main.
        .executableTarget(
            name: "ExhibitFuzz",
            dependencies: ["CaseBundle", "ChainOfCustody", "WARC", "PageAnalysis"]
        ),
        .target(
            name: "ExhibitTestSupport",
            dependencies: [
                "CaseManagement", "ChainOfCustody", "FixtureServer", "LoopbackServer", "COpenSSL",
                .product(name: "Hummingbird", package: "hummingbird"), nioCore, nioConcurrencyHelpers,
            ]
        ),

        .testTarget(name: "ChainOfCustodyTests", dependencies: ["ChainOfCustody", "ExhibitTestSupport"]),
        .testTarget(name: "CaseManagementTests", dependencies: ["CaseManagement", "ChainOfCustody", "ExhibitTestSupport"]),
        .testTarget(name: "PageAnalysisTests", dependencies: ["PageAnalysis", "ExhibitTestSupport"]),
        .testTarget(name: "ScreeningTests", dependencies: ["Screening", "ChainOfCustody"]),
        .testTarget(name: "CaseIndexTests", dependencies: ["CaseIndex", "CaseManagement", "ChainOfCustody", "LawfulFetch", "PageAnalysis", "FixtureServer", "ExhibitTestSupport"]),
        .testTarget(name: "CaseBundleTests", dependencies: ["CaseBundle", "ChainOfCustody", "ExhibitTestSupport"]),
        .testTarget(name: "CaseReplayTests", dependencies: ["CaseReplay", "CaseManagement", "ChainOfCustody", "LawfulFetch", "FixtureServer", "ExhibitTestSupport"]),
        // CaseBrowserTests run the `exhibit` binary too (see ExhibitCLITests below).
        .testTarget(
            name: "CaseBrowserTests",
            dependencies: ["CaseBrowser", "CaseManagement", "ChainOfCustody", "LawfulFetch", "FixtureServer", "ExhibitCLI", "ExhibitTestSupport"]
        ),
        .testTarget(name: "LawfulFetchTests", dependencies: ["LawfulFetch", "WARC", "CaseManagement", "ChainOfCustody", "PageAnalysis", "FixtureServer", "ExhibitTestSupport"]),
        // End-to-end tests run the real `exhibit` binary; depending on the executable
        // target makes `swift test` build it next to the test bundle.
        .testTarget(name: "MediaForensicsTests", dependencies: ["MediaForensics", "MediaEvidence", "CaseManagement", "ChainOfCustody", "ExhibitTestSupport"]),
        .testTarget(name: "ExhibitCLITests", dependencies: ["ExhibitCLI", "CaseManagement", "ChainOfCustody", "Chromium", "FixtureServer", "ExhibitTestSupport", "EvidenceServer"]),
    ]
)

// One loop turns on the same strict settings for every Swift target (as swift-log does).
for target in package.targets where target.type != .system && !["CCurl", "CLibXML2", "COpenSSL", "CExhibitZlib", "CImageDecode"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
