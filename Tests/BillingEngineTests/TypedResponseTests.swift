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

    static let paidItems = [
        Shop.oneECS, Shop.oneEVS,
        #"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}},{"product_id":"evs.100","period":{"unit":"MONTH","count":2},"quantity":3}]"#,
        // Packages take effect at once (the order completes during the payment) or later.
        #"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1}}]"#,
        #"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":2},"quantity":2,"effective_at":1706745600}]"#,
        #"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1}},{"product_id":"obs.100g","period":{"unit":"MONTH","count":2}}]"#,
        #"[{"product_id":"obs.100g","period":{"unit":"MONTH","count":1}},{"product_id":"evs.100","period":{"unit":"MONTH","count":1}}]"#,
        #"[{"product_id":"box.1","quantity":2}]"#,
    ]

    /// Payment answers from the rows it wrote (orders, lines, resources, funding, completion).
    @Test(arguments: paidItems)
    func aPaidOrderIsAnsweredAsItIsThenRead(items: String) throws {
        let shop = try Shop()
        let id = text(try shop.create(items), "order", "order_id")
        let paid = try shop.pay(id)
        #expect(paid == (try shop.order(id)))
        #expect(paid["payment"] == nil)
    }

    /// The same with coupons and credit paying part: funding by several sources and coupons.
    @Test(arguments: paidItems)
    func anOrderPaidWithCouponsAndCreditIsAnsweredAsItIsThenRead(items: String) throws {
        let shop = try Shop(cash: 3_000)
        let engine = shop.engine
        _ = try putAccount(engine, "acme", extra: #","credit_limit_fen":1000000"#)
        let now = engine.now
        let cashCoupon = text(try object(engine.issueCoupon(#"{"actor":"ops","account_id":"acme","kind":"CASH_COUPON","face_value_fen":700,"valid_from":\#(now - 86_400),"valid_to":\#(now + 86_400 * 365)}"#)), "coupon", "coupon_id")
        let voucher = try shop.voucher(1_100)
        let id = text(try shop.create(items), "order", "order_id")
        let paid = try shop.pay(id, coupons: [voucher, cashCoupon])
        #expect(paid == (try shop.order(id)))
    }

    /// Auto-pay at creation answers from what the payment wrote; a refused auto-pay leaves
    /// the order as written and answers it so.
    @Test(arguments: paidItems)
    func anAutoPaidOrderIsAnsweredAsItIsThenRead(items: String) throws {
        for cash: Int64 in [1_000_000, 0] {
            let shop = try Shop(cash: cash)
            var created = try shop.create(items, #","auto_pay":true"#)
            let payment = created.removeValue(forKey: "payment")
            #expect(payment?.objectValue?["succeeded"] == .bool(cash > 0))
            let id = text(created, "order", "order_id")
            #expect(created == (try shop.order(id)))
        }
    }

    /// A renewal, paid at once or later, answers from what the payment wrote: the renewed
    /// resources (one, several in a combined order, bound ones, an expired one back in use)
    /// and their funding.
    @Test(arguments: [true, false])
    func aRenewalIsAnsweredAsItIsThenRead(autoPay: Bool) throws {
        let shop = try Shop()
        let disks = [try shop.own(), try shop.own("ecs.s6"), try shop.own(), try shop.own()]
        func renewed(_ ids: [String]) throws {
            var answer = try shop.renew(ids, autoPay ? #","auto_pay":true"# : "")
            let payment = answer.removeValue(forKey: "payment")
            let id = text(answer, "order", "order_id")
            if autoPay {
                #expect(payment?.objectValue?["succeeded"] == .bool(true))
                #expect(answer == (try shop.order(id)))
            } else {
                #expect(try shop.pay(id) == (try shop.order(id)))
            }
        }
        try renewed([disks[0]])
        try renewed([disks[1], disks[2]])
        // Past its expiry (the others' renewed one is later): back into use by the renewal.
        try shop.runScheduler(at: shop.engine.now + 35 * 86_400)
        #expect(text(try shop.resource(disks[3]), "status") != "IN_USE")
        try renewed([disks[3]])
        #expect(text(try shop.resource(disks[3]), "status") == "IN_USE")
    }

    /// Confirming, declining, approving and rejecting answer with the order rows as written
    /// (and the lines and resources read): the same as a later read.
    @Test(arguments: [Shop.oneEVS, #"[{"product_id":"ecs.s6","period":{"unit":"MONTH","count":1}},{"product_id":"vpc.std","period":{"unit":"MONTH","count":1}}]"#,
                      #"[{"product_id":"vpc.std","period":{"unit":"MONTH","count":1}}]"#])
    func aDecidedOrderIsAnsweredAsItIsThenRead(items: String) throws {
        for (confirm, approve) in [(true, true), (true, false), (false, true)] {
            let shop = try Shop()
            let engine = shop.engine
            let id = text(try shop.create(items, #","placed_by_manager":true"#), "order", "order_id")
            let decided = try object(engine.confirmOrder(#"{"actor":"buyer","account_id":"acme","order_id":"\#(id)","decision":"\#(confirm ? "CONFIRM" : "DECLINE")"}"#))
            #expect(decided == (try shop.order(id)))
            guard try shop.status(id) == "PENDING_REVIEW" else { continue }
            let reviewed = try object(engine.reviewOrder(#"{"actor":"ops","account_id":"acme","order_id":"\#(id)","decision":"\#(approve ? "APPROVE" : "REJECT")"}"#))
            #expect(reviewed == (try shop.order(id)))
        }
    }

    /// A configuration change's event data and audit detail, written directly, are the bytes
    /// of the trees they replaced; and what an update stores is those bytes.
    @Test func aConfigurationChangesEventAndAuditTextsAreTheTreesTexts() throws {
        let patches: [JSONValue] = [
            .object([:]),
            ["auto_renew_hour": .integer(5)],
            ["pay_deadline_seconds": ["default": .integer(60), "é \"q\"": .integer(61)], "currency": .string("USD"),
             "export_directory": .null, "expiry_reminder_days": ["MANUAL": [.integer(3), .integer(1)]]],
        ]
        for changes in patches {
            for changed in [[], ["auto_renew_hour"], ["currency", "export_directory", "pay_deadline_seconds"]] {
                let names = JSONValue.array(changed.map { .string($0) })
                let texts = ConfigurationUpdateResponse.changeTexts(changed: changed, changes: changes)
                #expect(texts.event == JSONValue.object(["changed": names]).text)
                #expect(texts.detail == JSONValue.object(["changed": names, "changes": changes]).text)
            }
        }
        let engine = try manualEngine()
        _ = try engine.updateConfiguration(#"{"actor":"o","changes":{"currency":"USD","export_directory":null,"auto_renew_hour":4}}"#)
        let events = try object(engine.listEvents(nil))
        let data = events["events"]?.arrayValue?.last?.objectValue?["data"]
        #expect(data == ["changed": ["auto_renew_hour", "currency"]])
        let audit = try object(engine.listAudit(nil))
        let detail = audit["entries"]?.arrayValue?.last?.objectValue?["detail"]
        #expect(detail == ["changed": ["auto_renew_hour", "currency"],
                           "changes": ["currency": "USD", "export_directory": .null, "auto_renew_hour": .integer(4)]])
    }

    /// The configuration's answer reuses the stored document's text: the same bytes as
    /// writing the whole answer, and the same document a later read gives.
    @Test func aConfigurationChangeIsAnsweredAsWrittenThenRead() throws {
        let engine = try manualEngine()
        for changes in [#"{"export_rows_per_step":10}"#, #"{"export_rows_per_step":10}"#, #"{"max_coupons_per_payment":3,"export_rows_per_step":11}"#] {
            let text = try engine.updateConfiguration(#"{"actor":"o","idempotency_key":"k\#(changes.count)","changes":\#(changes)}"#)
            let answer = try object(text)
            let read = try object(try engine.configurationJSON())
            #expect(answer["configuration"] == read["configuration"])
            let configuration = try engine.configuration()
            let response = ConfigurationUpdateResponse(configuration: configuration, configurationText: configuration.json.text,
                                                       changed: (answer["changed"]?.arrayValue ?? []).compactMap(\.stringValue))
            #expect(response.documentText == Engine.document(response.json))
            #expect(text == response.documentText)
            // A replay gives the first answer's bytes.
            #expect(try engine.updateConfiguration(#"{"actor":"o","idempotency_key":"k\#(changes.count)","changes":\#(changes)}"#) == text)
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
