import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments

/// The answers built from the values at hand (issue 17: no reading back of rows an operation
/// just wrote) must be the documents a read gives afterwards, and optional parts of a typed
/// answer must stay absent when not asked for.
@Suite("Typed answers: built from the values at hand, equal to what a read gives")
struct TypedResponseTests {
    @Test(arguments: [Shop.oneECS, #"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}},{"product_id":"evs.100","period":{"unit":"MONTH","count":2},"quantity":3}]"#,
                      #"[{"product_id":"vpc.std","period":{"unit":"MONTH","count":1}}]"#])
    func anUnpaidOrderIsAnsweredAsItIsThenRead(items: String) throws {
        let shop = try Shop()
        var created = try shop.create(items)
        #expect(created.removeValue(forKey: "payment") == .null)
        let id = try #require(created["order"]?.objectValue?["order_id"]?.stringValue)
        #expect(created == (try shop.order(id)))
    }

    @Test func aManagerOrderIsAnsweredAsItIsThenRead() throws {
        let shop = try Shop()
        var created = try shop.create(Shop.oneEVS, #","placed_by_manager":true,"contract":"C-1""#)
        created["payment"] = nil
        let id = try #require(created["order"]?.objectValue?["order_id"]?.stringValue)
        #expect(created == (try shop.order(id)))
    }

    @Test func aPolicyChangeAnswersTheResourcesAsThenRead() throws {
        let shop = try Shop()
        let disks = [try shop.own(), try shop.own("ecs.s6")]
        for policy in ["AUTO_RENEW", "NO_RENEW", "TO_ON_DEMAND", "MANUAL"] {
            let answered = try objects(try shop.setPolicy(disks, policy)["resources"])
            #expect(answered == (try disks.map { try shop.resource($0) }))
        }
    }

    @Test func listsLeaveCountsOutUnlessAskedFor() throws {
        let shop = try Shop()
        let disk = try shop.own()
        let engine = shop.engine
        let lists: [(String) throws -> String] = [
            { try engine.listOrders(#"{"account_id":"acme"\#($0)}"#) },
            { try engine.listOrders(#"{"account_id":"acme","group_combined":true\#($0)}"#) },
            { try engine.listRenewals(#"{"account_id":"acme","tab":"ALL"\#($0)}"#) },
            { try engine.listResources(#"{"account_id":"acme"\#($0)}"#) },
            { try engine.listUnsubscriptions(#"{"account_id":"acme"\#($0)}"#) },
        ]
        for list in lists {
            let plain = try object(try list(""))
            #expect(plain["counts"] == nil)
            let counted = try object(try list(#","with_counts":true"#))
            #expect(counted["counts"]?.objectValue != nil)
        }
        _ = disk
    }
}
