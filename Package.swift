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
        // The layers, each a target so that a wrong import does not compile (README, Layout).
        // Values and rules: pure Swift, no SQLite, no JSON text, no I/O.
        .target(
            name: "BillingDomain",
            path: "Sources/BillingDomain"
        ),
        // JSON text (strict parser, canonical writer, the request reader), CSV, and the
        // documents of domain values.
        .target(
            name: "BillingDocuments",
            dependencies: ["BillingDomain"],
            path: "Sources/BillingDocuments"
        ),
        // Password hashes, tokens and digests from libsodium (never hand-written crypto).
        .target(
            name: "BillingSecurity",
            dependencies: ["BillingDomain", "CSodium"],
            path: "Sources/BillingSecurity"
        ),
        // The database: connection, schema and migrations, one store per aggregate; the
        // PostgreSQL connection (Postgres/, issue 18) beside the SQLite one.
        .target(
            name: "BillingStorage",
            dependencies: ["BillingDomain", "BillingDocuments", "BillingSecurity", "CSQLite", "CPostgres"],
            path: "Sources/BillingStorage"
        ),
        // The operations: one transaction each, composing rules and stores.
        .target(
            name: "BillingEngine",
            dependencies: ["BillingDomain", "BillingDocuments", "BillingSecurity", "BillingStorage"],
            path: "Sources/BillingEngine"
        ),
        .target(
            name: "CBillingAPI",
            dependencies: ["BillingEngine", "BillingDomain", "BillingDocuments", "CBilling"],
            path: "Sources/CBillingAPI",
            swiftSettings: [.enableExperimentalFeature("CImplementation")]
        ),
        .testTarget(
            name: "BillingEngineTests",
            // CSQLite: VerifyScalingTests counts the steps SQLite takes for verify's statements.
            dependencies: ["BillingEngine", "BillingDomain", "BillingDocuments", "BillingSecurity", "BillingStorage", "CSQLite"],
            path: "Tests/BillingEngineTests"
        ),
    ]
)
