"""The simulator driven by Binance's own Python client (binance-futures-connector), unmodified.

Every call goes over real HTTP/WebSocket to a `kestrel sim` process; the assertions check that
answers have Binance's shapes and that the values agree with each other (orders, fills,
balances, positions, user-stream events).
"""

import json
import threading
import time
from decimal import Decimal

import pytest
from binance.error import ClientError
from binance.um_futures import UMFutures
from binance.websocket.um_futures.websocket_client import UMFuturesWebsocketClient

from conftest import API_KEY, control

SYMBOL = "BTCUSDT"


def filters(info: dict, symbol: str) -> dict:
    entry = next(s for s in info["symbols"] if s["symbol"] == symbol)
    return {f["filterType"]: f for f in entry["filters"]}


def book(client: UMFutures) -> tuple:
    depth = client.depth(SYMBOL, limit=5)
    return Decimal(depth["bids"][0][0]), Decimal(depth["asks"][0][0])


def error_code(call) -> int:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.error_code


def test_ping_and_time(client):
    assert client.ping() == {}
    server = client.time()["serverTime"]
    assert abs(server - int(time.time() * 1000)) < 5000


def test_exchange_info_lists_symbols_with_every_filter(client):
    info = client.exchange_info()
    assert {s["symbol"] for s in info["symbols"]} == {"BTCUSDT", "ETHUSDT"}
    btc = next(s for s in info["symbols"] if s["symbol"] == SYMBOL)
    assert btc["contractType"] == "PERPETUAL" and btc["status"] == "TRADING"
    assert (btc["baseAsset"], btc["quoteAsset"], btc["marginAsset"]) == ("BTC", "USDT", "USDT")
    assert set(btc["orderTypes"]) == {
        "LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET",
    }
    f = filters(info, SYMBOL)
    assert {"PRICE_FILTER", "LOT_SIZE", "MARKET_LOT_SIZE", "MAX_NUM_ORDERS", "MIN_NOTIONAL", "PERCENT_PRICE"} <= set(f)
    assert f["PRICE_FILTER"]["tickSize"] == "0.10"
    assert f["LOT_SIZE"]["stepSize"] == "0.001"
    assert f["MIN_NOTIONAL"]["notional"] == "100"
    assert isinstance(f["MAX_NUM_ORDERS"]["limit"], int)
    assert any(r["rateLimitType"] == "REQUEST_WEIGHT" for r in info["rateLimits"])


def test_depth_is_sorted_uncrossed_and_on_tick(client, paused):
    depth = client.depth(SYMBOL, limit=20)
    assert isinstance(depth["lastUpdateId"], int)
    bids = [Decimal(p) for p, _ in depth["bids"]]
    asks = [Decimal(p) for p, _ in depth["asks"]]
    assert len(bids) == 20 and len(asks) == 20
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    assert all(p % Decimal("0.1") == 0 for p in bids + asks)
    ticker = client.book_ticker(SYMBOL)
    assert Decimal(ticker["bidPrice"]) == bids[0] and Decimal(ticker["askPrice"]) == asks[0]


def test_limit_order_lifecycle_place_query_cancel(client, paused):
    bid, _ = book(client)
    price = str(bid - Decimal("500"))
    placed = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010", price=price)
    assert placed["status"] == "NEW" and placed["symbol"] == SYMBOL
    assert isinstance(placed["orderId"], int) and placed["price"] == price
    queried = client.query_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert queried["status"] == "NEW" and queried["clientOrderId"] == placed["clientOrderId"]
    assert queried["origQty"] == "0.010" and queried["executedQty"] == "0.000"
    open_ids = [o["orderId"] for o in client.get_orders(symbol=SYMBOL)]
    assert placed["orderId"] in open_ids
    canceled = client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert canceled["status"] == "CANCELED"
    assert client.query_order(symbol=SYMBOL, origClientOrderId=placed["clientOrderId"])["status"] == "CANCELED"
    assert error_code(lambda: client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])) == -2011
    assert error_code(lambda: client.query_order(symbol=SYMBOL, orderId=10**12)) == -2013


def test_market_order_fills_and_everything_agrees(client):
    before = Decimal(next(b for b in client.balance() if b["asset"] == "USDT")["balance"])
    order = client.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.005", newOrderRespType="RESULT")
    assert order["status"] == "FILLED" and order["executedQty"] == "0.005"
    trades = [t for t in client.get_account_trades(symbol=SYMBOL) if t["orderId"] == order["orderId"]]
    assert trades, "the fill is in userTrades"
    assert sum(Decimal(t["qty"]) for t in trades) == Decimal("0.005")
    notional = sum(Decimal(t["quoteQty"]) for t in trades)
    assert Decimal(order["cumQuote"]) == notional
    assert all(t["buyer"] is True and t["maker"] is False and t["commissionAsset"] == "USDT" for t in trades)
    commission = sum(Decimal(t["commission"]) for t in trades)
    assert commission == (notional * Decimal("0.0005")).quantize(Decimal("0.00000001"))
    after = Decimal(next(b for b in client.balance() if b["asset"] == "USDT")["balance"])
    assert before - after == commission, "a position opening fill costs exactly its commission"
    position = next(p for p in client.get_position_risk(symbol=SYMBOL) if p["positionSide"] == "BOTH")
    assert Decimal(position["positionAmt"]) >= Decimal("0.005")
    # Close it again so later tests start flat.
    client.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity=position["positionAmt"], reduceOnly="true")
    flat = [p for p in client.get_position_risk(symbol=SYMBOL) if Decimal(p["positionAmt"]) != 0]
    assert flat == []


@pytest.mark.parametrize(
    "kind,extra",
    [
        ("STOP_MARKET", {"stopPrice": "+1000"}),
        ("STOP", {"stopPrice": "+1000", "price": "+1100", "timeInForce": "GTC"}),
        ("TAKE_PROFIT_MARKET", {"stopPrice": "-1000"}),
        ("TAKE_PROFIT", {"stopPrice": "-1000", "price": "-900", "timeInForce": "GTC"}),
        ("TRAILING_STOP_MARKET", {"callbackRate": "1"}),
    ],
)
def test_conditional_order_types_are_accepted_queried_and_cancelled(client, paused, kind, extra):
    bid, _ = book(client)
    params = {}
    for key, value in extra.items():
        params[key] = str(bid + Decimal(value)) if value[0] in "+-" else value
    placed = client.new_order(symbol=SYMBOL, side="BUY", type=kind, quantity="0.010", **params)
    assert placed["status"] == "NEW" and placed["type"] == kind and placed["origType"] == kind
    if "stopPrice" in params:
        assert Decimal(placed["stopPrice"]) == Decimal(params["stopPrice"])
    assert client.query_order(symbol=SYMBOL, orderId=placed["orderId"])["status"] == "NEW"
    assert client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])["status"] == "CANCELED"


def test_batch_orders_place_and_cancel_with_per_order_errors(client, paused):
    bid, _ = book(client)
    orders = [
        {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.010", "timeInForce": "GTC", "price": str(bid - 600)},
        {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.010", "timeInForce": "GTC", "price": str(bid - 601)},
        {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "quantity": "0.010", "timeInForce": "GTC", "price": str(bid - Decimal("600.05"))},
    ]
    results = client.new_batch_order(orders)
    assert len(results) == 3
    assert results[0]["status"] == "NEW" and results[1]["status"] == "NEW"
    assert results[2]["code"] == -4014, "off-tick price is reported in place, not as a failure of the batch"
    ids = [results[0]["orderId"], results[1]["orderId"]]
    canceled = client.cancel_batch_order(symbol=SYMBOL, orderIdList=ids, origClientOrderIdList=None)
    assert [c["status"] for c in canceled] == ["CANCELED", "CANCELED"]


def test_rule_violations_return_binance_codes(client, paused):
    bid, ask = book(client)
    below = str(bid - 1000)
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.001", price=below)) == -4164
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010", price=str(bid - Decimal("0.05")))) == -4014
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.0105", price=below)) == -4023
    assert error_code(lambda: client.new_order(symbol="NOPEUSDT", side="BUY", type="MARKET", quantity="1")) == -1121
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTX", quantity="0.010", price=str(ask + 10))) == -5022
    # More than the best ask holds, at the best ask: a FOK cannot fill completely.
    too_much = str(Decimal(client.depth(SYMBOL, limit=5)["asks"][0][1]) + Decimal("0.001"))
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="FOK", quantity=too_much, price=str(ask))) == -5021
    placed = client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010", price=below, newClientOrderId="dup-id-1")
    assert error_code(lambda: client.new_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.010", price=below, newClientOrderId="dup-id-1")) == -4116
    client.cancel_order(symbol=SYMBOL, orderId=placed["orderId"])


def test_authentication_failures(sim):
    wrong_secret = UMFutures(key=API_KEY, secret="not-the-secret", base_url=sim)
    assert error_code(lambda: wrong_secret.account()) == -1022
    unknown_key = UMFutures(key="unknown-key", secret="whatever", base_url=sim)
    assert error_code(lambda: unknown_key.account()) == -2015


def test_account_balance_and_positions_agree(client):
    account = client.account()
    balances = client.balance()
    usdt = next(b for b in balances if b["asset"] == "USDT")
    asset = next(a for a in account["assets"] if a["asset"] == "USDT")
    assert Decimal(account["totalWalletBalance"]) == Decimal(usdt["balance"]) == Decimal(asset["walletBalance"])
    assert asset["updateTime"] > 0, "ccxt skips assets whose updateTime is 0"
    assert Decimal(account["availableBalance"]) == Decimal(usdt["availableBalance"])
    client.new_order(symbol="ETHUSDT", side="SELL", type="MARKET", quantity="0.100")
    risk = next(p for p in client.get_position_risk(symbol="ETHUSDT") if Decimal(p["positionAmt"]) != 0)
    assert Decimal(risk["positionAmt"]) == Decimal("-0.100")
    unrealized = (Decimal(risk["markPrice"]) - Decimal(risk["entryPrice"])) * Decimal(risk["positionAmt"])
    assert abs(unrealized - Decimal(risk["unRealizedProfit"])) < Decimal("0.00000001") * 10
    in_account = next(p for p in client.account()["positions"] if p["symbol"] == "ETHUSDT")
    assert in_account["positionAmt"] == risk["positionAmt"]
    client.new_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.100", reduceOnly="true")


def test_leverage_margin_type_and_position_mode(client):
    changed = client.change_leverage(symbol=SYMBOL, leverage=10)
    assert changed == {"leverage": 10, "maxNotionalValue": changed["maxNotionalValue"], "symbol": SYMBOL}
    assert error_code(lambda: client.change_leverage(symbol=SYMBOL, leverage=200)) == -4028
    assert error_code(lambda: client.change_margin_type(symbol=SYMBOL, marginType="CROSSED")) == -4046
    brackets = client.leverage_brackets(symbol=SYMBOL)
    entry = brackets[0] if isinstance(brackets, list) else brackets
    assert entry["symbol"] == SYMBOL and entry["brackets"][0]["initialLeverage"] >= 20
    assert client.get_position_mode() == {"dualSidePosition": False}
    assert client.change_position_mode(dualSidePosition="true") == {"code": 200, "msg": "success"}
    assert client.get_position_mode() == {"dualSidePosition": True}
    assert client.change_position_mode(dualSidePosition="false") == {"code": 200, "msg": "success"}
    assert error_code(lambda: client.change_position_mode(dualSidePosition="false")) == -4059


def test_user_data_stream_reports_a_fill_consistently(sim, client):
    listen_key = client.new_listen_key()["listenKey"]
    assert len(listen_key) == 64
    events = []
    got_fill = threading.Event()

    def on_message(_, message):
        event = json.loads(message)
        events.append(event)
        if event.get("e") == "ORDER_TRADE_UPDATE" and event["o"]["X"] == "FILLED":
            got_fill.set()

    ws = UMFuturesWebsocketClient(stream_url=sim.replace("http", "ws"), on_message=on_message)
    try:
        ws.user_data(listen_key=listen_key, id=1)
        time.sleep(0.5)
        order = client.new_order(symbol=SYMBOL, side="SELL", type="MARKET", quantity="0.003", newOrderRespType="RESULT")
        assert got_fill.wait(10), f"no FILLED ORDER_TRADE_UPDATE: {events!r}"
    finally:
        ws.stop()
    updates = [e["o"] for e in events if e.get("e") == "ORDER_TRADE_UPDATE" and e["o"]["i"] == order["orderId"]]
    assert updates[-1]["X"] == "FILLED" and updates[-1]["z"] == "0.003"
    trades = {t["id"]: t for t in client.get_account_trades(symbol=SYMBOL) if t["orderId"] == order["orderId"]}
    for update in (u for u in updates if u["x"] == "TRADE"):
        trade = trades[update["t"]]
        assert (update["L"], update["l"], update["n"]) == (trade["price"], trade["qty"], trade["commission"])
    accounts = [e for e in events if e.get("e") == "ACCOUNT_UPDATE"]
    assert accounts and accounts[-1]["a"]["m"] == "ORDER"
    position = next(p for p in accounts[-1]["a"]["P"] if p["s"] == SYMBOL)
    risk = next(p for p in client.get_position_risk(symbol=SYMBOL) if p["positionSide"] == "BOTH")
    assert position["pa"] == risk["positionAmt"]
    assert any(e.get("e") == "TRADE_LITE" for e in events)
    client.new_order(symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.003", reduceOnly="true")
    client.renew_listen_key(listen_key)
    client.close_listen_key(listen_key)


def test_diff_depth_stream_chains_pu_to_previous_u(sim):
    events = []

    def on_message(_, message):
        event = json.loads(message)
        if event.get("e") == "depthUpdate":
            events.append(event)

    ws = UMFuturesWebsocketClient(stream_url=sim.replace("http", "ws"), on_message=on_message)
    try:
        ws.diff_book_depth(symbol="btcusdt", speed=100, id=2)
        deadline = time.time() + 10
        while len(events) < 5 and time.time() < deadline:
            time.sleep(0.1)
    finally:
        ws.stop()
    assert len(events) >= 5, "the synthetic market moves the book"
    for previous, current in zip(events, events[1:]):
        assert current["pu"] == previous["u"]
        assert current["U"] > previous["u"] and current["u"] >= current["U"]


def test_control_api_reports_the_true_book(sim, client, paused):
    import urllib.request

    with urllib.request.urlopen(sim + "/sim/v1/book/BTCUSDT?depth=5", timeout=10) as response:
        truth = json.loads(response.read())
    rest = client.depth(SYMBOL, limit=5)
    assert truth["lastUpdateId"] == rest["lastUpdateId"]
    assert truth["bids"] == rest["bids"] and truth["asks"] == rest["asks"]
    assert control(sim, "/sim/v1/faults", json.dumps({"kind": "http_error", "status": 503, "count": 1}).encode()) is not None
    from binance.error import ServerError

    with pytest.raises(ServerError):
        client.time()
    assert client.time()["serverTime"] > 0, "only the next request fails"
