/** Wallet calls, on the generated client. */
import { api, unwrap } from "./client";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
export type TopUp = Schemas["TopUpOut"];
export type TopUpBody = Schemas["TopUpIn"];
export type PaymentMethod = NonNullable<TopUpBody["method"]>;
export type Wallet = Schemas["WalletOut"];
/** A row of the wallet's history: money that moved, or a payment held for review. */
export type Transaction = Schemas["TransactionsPage"]["items"][number];
export type TransactionFilter = NonNullable<paths["/api/v1/wallet/transactions"]["get"]["parameters"]["query"]>;

export const walletApi = {
  wallet: () => unwrap(api.GET("/api/v1/wallet")),
  topUp: (body: TopUpBody, key: string) =>
    unwrap(api.POST("/api/v1/wallet/top-ups", { body, params: { header: { "Idempotency-Key": key } } })),
  topUpStatus: (id: string) =>
    unwrap(api.GET("/api/v1/wallet/top-ups/{top_up_id}", { params: { path: { top_up_id: id } } })),
  transactions: (filter: TransactionFilter) =>
    unwrap(api.GET("/api/v1/wallet/transactions", { params: { query: filter } })),
  balanceAt: (at: string) => unwrap(api.GET("/api/v1/wallet/balance", { params: { query: { at } } })),
};
