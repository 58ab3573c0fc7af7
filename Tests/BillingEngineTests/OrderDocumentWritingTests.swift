import Testing
@testable import BillingEngine
@testable import BillingDomain
@testable import BillingDocuments
@testable import BillingStorage

/// The order documents written directly (`JSONWriter+Fields.swift`, issue 17) must be the
/// bytes the value trees give: the same keys, in the tree writer's order, the same values.
@Suite("Order documents written directly equal their trees")
struct OrderDocumentWritingTests {
    static let calendar = BusinessCalendar.chinaStandard

    /// Every optional field set, text needing escapes, large and negative numbers.
    static var fullOrder: Order {
        var amounts = OrderAmounts()
        amounts.listPrice = Money(fen: 9_000_000_000_000)
        amounts.commercialDiscount = Money(fen: 12)
        amounts.promotionDiscount = Money(fen: 3)
        amounts.discountCoupon = Money(fen: 4)
        amounts.voucher = Money(fen: 5)
        amounts.cashCoupon = Money(fen: 6)
        amounts.storedValueCard = Money(fen: 7)
        amounts.cash = Money(fen: 8)
        amounts.credit = Money(fen: 9)
        return Order(id: "CS\u{7F}\"1\\", accountID: "acme ✓\n", combinedID: "CS0", isCombined: true, type: .renew, status: .completed,
                     productType: "ECS", billingMode: "PREPAID", productKind: "default", createdAt: -1, payDeadline: 2, paidAt: 3,
                     completedAt: 4, cancelledAt: 5, cancelReason: "why\t", reviewRequired: true, placedByManager: true,
                     contract: "C-1", sourceOrderID: "CS9", amounts: amounts)
    }

    static var emptyOrder: Order {
        Order(id: "CS1", accountID: "a", isCombined: false, type: .new, status: .pendingPayment, productType: "", billingMode: "ONE_OFF",
              productKind: "default", createdAt: 0, reviewRequired: false, placedByManager: false, amounts: OrderAmounts())
    }

    static var lines: [OrderLine] {
        let product: JSONValue = ["product_id": "ecs.s6", "name": "Élan \"2\"", "kind": "default", "on_sale": true, "refundable": false,
                                  "specs": ["vcpus": 2, "zone": .null], "allowed_periods": [["unit": "MONTH", "count": 1]],
                                  "monthly_price_fen": 10000, "bound_products": ["evs.sys40"]]
        var full = OrderLine(orderID: "CS\u{1}", lineNo: 2, productID: "ecs.s6", productType: "ECS", billingMode: .prepaid, region: "cn-north-4",
                             period: try! Period(3, .month), quantity: 7, parentLine: 1, relation: .bound, effectiveAt: 10, product: product,
                             amounts: fullOrder.amounts, resourceID: "R1", renewFrom: 11, renewTo: 12, anchorAfter: 13)
        full.resourceID = "R1"
        let bare = OrderLine(orderID: "CS2", lineNo: 1, productID: "p", productType: "T", billingMode: .onDemand, quantity: 1,
                             product: .object([:]), amounts: OrderAmounts())
        return [full, bare, OrderLine(orderID: "CS3", lineNo: 1, productID: "p", productType: "T", billingMode: .oneOff, quantity: 1,
                                      product: .string("not an object"), amounts: OrderAmounts())]
    }

    static var resources: [Resource] {
        [Resource(id: "R1", accountID: "acme", orderID: "CS1", lineNo: 1, productID: "ecs.s6", productType: "ECS", billingMode: .prepaid,
                  region: "r", status: .inUse, primaryID: "R0", relation: .attached, period: try! Period(1, .year), createdAt: 1,
                  provisionedAt: 2, effectiveAt: 3, expireAt: 1_706_745_600, endedAt: 5, expiryPolicy: "AUTO_RENEW", graceEnd: 6,
                  retentionEnd: 7, freezeReason: .arrears, autoRenewPeriod: try! Period(2, .month), autoRenewRemaining: 3, nextAttemptAt: 9),
         Resource(id: "R2", accountID: "acme", orderID: "CS1", lineNo: 2, productID: "p", productType: "T", billingMode: .onDemand,
                  status: .pendingProvision, createdAt: 1, expiryPolicy: "MANUAL")]
    }

    func written(_ body: (inout JSONWriter) throws -> Void) rethrows -> String {
        var writer = JSONWriter()
        try body(&writer)
        return writer.text
    }

    @Test func ordersAndAmounts() throws {
        for order in [Self.fullOrder, Self.emptyOrder] {
            #expect(try written { try $0.writeOrder(order) } == (try order.json).text)
            #expect(try written { try $0.writeAmounts(order.amounts) } == (try order.amounts.json).text)
        }
    }

    @Test func linesAndResources() throws {
        for line in Self.lines {
            #expect(try written { try $0.writeLine(line, withOrderID: false) } == (try line.json).text)
        }
        for resource in Self.resources {
            #expect(written { $0.writeResource(resource, calendar: Self.calendar) } == resource.json(Self.calendar).text)
        }
    }

    @Test func overflowingAmountsAreRefusedLikeTheTree() {
        var order = Self.emptyOrder
        order.amounts.cash = Money(fen: .max)
        order.amounts.credit = Money(fen: 1)
        #expect(throws: BillingError.self) { try order.json }
        #expect(throws: BillingError.self) { try written { try $0.writeOrder(order) } }
    }

    @Test(arguments: [false, true])
    func orderDetails(unsubscription: Bool) throws {
        let detail = OrderDetail(order: Self.fullOrder, subOrders: [Self.emptyOrder, Self.fullOrder], lines: Self.lines,
                                 resources: Self.resources,
                                 payments: [("CASH", nil, Money(fen: 5)), ("VOUCHER", "V\"1", Money(fen: 6))],
                                 refunds: unsubscription ? [RefundEntry(resource: "R1", paidBy: "CS0", source: .cash, amount: Money(fen: 3)),
                                                            RefundEntry(resource: "R1", paidBy: "CS0", source: .voucher, coupon: "V1",
                                                                        amount: Money(fen: 4))] : nil)
        for (payment, quote) in [(PaymentOutcome?.none, JSONValue?.none), (.succeeded, ["refund_fen": 3]),
                                 (.failed(reason: "insufficient_funds", message: "no \"cash\""), nil), (.notAttempted, nil)] {
            let response = try OrderDetailResponse(detail, payment: payment, quote: quote, calendar: Self.calendar)
            #expect(response.documentText == Engine.document(response.json))
        }
        let empty = OrderDetail.unpaid(Self.emptyOrder, subOrders: [], lines: [])
        let response = try OrderDetailResponse(empty, calendar: Self.calendar)
        #expect(response.documentText == Engine.document(response.json))
    }

    @Test func orderListPages() throws {
        let rows: [OrderListResponse.Row] = [.order(Self.fullOrder), .combined(Self.emptyOrder, subOrders: [Self.fullOrder, Self.emptyOrder]),
                                             .order(Self.emptyOrder)]
        for (cursor, counts) in [((Int64(5), Int64(6)) as (created: Int64, sequence: Int64)?, JSONValue?.some(["ALL": 3, "PAID": 1])),
                                 (nil, nil)] {
            for page in [rows, []] {
                let response = try OrderListResponse(rows: page, nextCursor: cursor, hasMore: cursor != nil, counts: counts)
                #expect(response.documentText == Engine.document(response.json))
            }
        }
    }

    /// End to end: every answer of the shop's order operations is already canonical text
    /// (parsing it and writing the tree again gives the same bytes).
    @Test func answersAreCanonical() throws {
        let shop = try Shop()
        for items in TypedResponseTests.paidItems {
            let created = try shop.engine.createOrder(#"{"actor":"buyer","account_id":"acme","items":\#(items)}"#)
            #expect(try JSONValue.parse(created).text == created)
            let id = text(try object(created), "order", "order_id")
            let paid = try shop.engine.payOrder(#"{"actor":"buyer","account_id":"acme","order_id":"\#(id)"}"#)
            #expect(try JSONValue.parse(paid).text == paid)
            let details = try shop.engine.orderDetails(#"{"account_id":"acme","order_id":"\#(id)"}"#)
            #expect(try JSONValue.parse(details).text == details)
        }
        for request in [#"{"account_id":"acme","limit":3,"with_counts":true}"#, #"{"account_id":"acme","group_combined":true}"#] {
            let page = try shop.engine.listOrders(request)
            #expect(try JSONValue.parse(page).text == page)
        }
    }

    /// The usage report's answer, written directly, is canonical too (rated, duplicate).
    @Test func usageAnswersAreCanonical() throws {
        let shop = try Shop()
        let bandwidth = try shop.onDemand("bw.ondemand")
        let request = #"{"actor":"meter","account_id":"acme","records":[{"usage_id":"u1","resource_id":"\#(bandwidth)","quantity":2,"start":\#(january1st2024),"end":\#(january1st2024 + 5400)},{"usage_id":"u2","resource_id":"\#(bandwidth)","quantity":1,"start":\#(january1st2024),"end":\#(january1st2024 + 60)}]}"#
        for _ in 0..<2 {  // the second time both are duplicates
            let answer = try shop.engine.reportUsage(request)
            #expect(try JSONValue.parse(answer).text == answer)
        }
    }

    /// A snapshot read back through `SnapshotCache` is the value parsing its text gives, and a
    /// damaged one is still refused as unreadable.
    @Test func snapshotsReadThroughTheCacheEqualParsing() throws {
        let text = #"{"name":"e\u0301","product_id":"x","specs":{"a":[1,2]}}"#
        #expect(try SnapshotCache.shared.value(text, "test") == (try JSONValue.parse(text)))
        #expect(try SnapshotCache.shared.value(text, "test") == (try JSONValue.parse(text)))
        #expect(throws: BillingError.self) { try SnapshotCache.shared.value("{\"a\":", "test") }
    }

    /// The cache hashes a sample of a long text's bytes: long texts of one length that differ
    /// only between the sampled places (or in every place) are still told apart.
    @Test func longSnapshotsDifferingOutsideTheSampleAreToldApart() throws {
        for length in [257, 300, 1000, 4096] {
            var texts: [String] = []
            for place in [70, 71, 100, length / 2 + 3, length - 70, length - 65] {
                for digit in ["1", "2"] {
                    let padding = String(repeating: "a", count: place - 6) + digit + String(repeating: "b", count: length - place - 3)
                    texts.append(#"{"p":""# + padding + #""}"#)
                }
            }
            for text in texts {
                #expect(text.utf8.count == length)
                #expect(try SnapshotCache.shared.value(text, "test") == (try JSONValue.parse(text)))
            }
            for text in texts.reversed() {
                #expect(try SnapshotCache.shared.value(text, "test") == (try JSONValue.parse(text)))
            }
        }
    }
}

