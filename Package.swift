// swift-tools-version:6.0
// libbilling: an embeddable billing-center engine with a C ABI.
// The release library (dist/lib/libbilling.so) is built by `make build`, which adds the
// link flags (static Swift runtime, SONAME, version script, -z nodelete) on the command
// line: in linkerSettings they would also apply to `swift test` and break it.
import PackageDescription

let package = Package(
    name: "libbilling",
    products: [
        .library(name: "billing", type: .dynamic, targets: ["CBillingAPI"]),
    ],
    targets: [
        // libsqlite3 from the system (Debian: libsqlite3-dev), plus a tiny shim for macros.
        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // libsodium from the system (Debian: libsodium-dev) for password hashing and tokens.
        .systemLibrary(
            name: "CSodium",
            path: "Sources/CSodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        // libpq from the system (Debian: libpq-dev) for the PostgreSQL backend (issue 18).
        .systemLibrary(
            name: "CPostgres",
            path: "Sources/CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The public header, imported so that `@c @implementation` makes the compiler check
        // every export against its declaration in include/billing.h.
        .systemLibrary(name: "CBilling", path: "include"),
        .target(
            name: "BillingEngine",
            dependencies: ["CSQLite", "CSodium", "CPostgres"],
            path: "Sources/BillingEngine"
        ),
        .target(
            name: "CBillingAPI",
            dependencies: ["BillingEngine", "CBilling"],
            path: "Sources/CBillingAPI",
            swiftSettings: [.enableExperimentalFeature("CImplementation")]
        ),
        .testTarget(
            name: "BillingEngineTests",
            dependencies: ["BillingEngine"],
            path: "Tests/BillingEngineTests"
        ),
    ]
)
