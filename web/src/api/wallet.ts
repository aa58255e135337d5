/** Wallet and dashboard calls (typed client; local body types until the contract has them). */
import { typed, unwrap, type JsonOp, type Patch, type Paths, type ReadOp } from "./client";

// TODO(contract): the gateway's schema does not describe these answers yet (wallet's own
// models: TopUpOut, WalletOut, MoneyRowOut, HeldRowOut, BalanceAtOut).
export type PaymentMethod = "bank_transfer" | "sandbox";
export interface TopUp {
  id: string;
  status: "pending" | "completed" | "failed" | "held";
  amount: number;
  currency: string;
  method: PaymentMethod;
  amount_received: number;
  failure_reason: string | null;
  created_at: string;
  completed_at: string | null;
  payment: { provider: string; reference: string; expires_at: string; qr_payload?: string };
}
export interface Wallet {
  account_id: string;
  currency: string;
  balance: number;
  held: number;
  total_topped_up: number;
  pending_top_ups: number;
  limits: { min_top_up: number; max_top_up: number; max_balance: number };
}
export interface Transaction {
  id: string;
  kind: "credit" | "debit" | "held";
  status?: "held" | "released" | "refund";
  amount: number;
  currency: string;
  balance_after: number;
  reason: string;
  reference: string;
  occurred_at: string;
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
export interface BalanceAt {
  at: string;
  balance: number;
  currency: string;
}
export interface TransactionFilter {
  limit: number;
  offset: number;
  kind?: "credit" | "debit" | "held";
  from?: string;
  to?: string;
}

type TopUpBody = { amount: number; currency: "VND"; method: PaymentMethod };
type KeyHeader = { query?: never; header: { "Idempotency-Key": string }; path?: never; cookie?: never };
type Query<Q> = { query: Q; header?: never; path?: never; cookie?: never };

type WalletPaths = Patch<
  Paths,
  {
    "/api/v1/wallet": { get: ReadOp<Wallet> };
    "/api/v1/wallet/top-ups": { post: JsonOp<TopUpBody, TopUp, 201, KeyHeader> };
    "/api/v1/wallet/top-ups/{top_up_id}": {
      get: ReadOp<TopUp, { query?: never; header?: never; path: { top_up_id: string }; cookie?: never }>;
    };
    "/api/v1/wallet/transactions": { get: ReadOp<Page<Transaction>, Query<TransactionFilter>> };
    "/api/v1/wallet/balance": { get: ReadOp<BalanceAt, Query<{ at: string }>> };
  }
>;

const client = typed<WalletPaths>();

export const walletApi = {
  wallet: () => unwrap(client.GET("/api/v1/wallet")),
  topUp: (body: TopUpBody, key: string) =>
    unwrap(client.POST("/api/v1/wallet/top-ups", { body, params: { header: { "Idempotency-Key": key } } })),
  topUpStatus: (id: string) =>
    unwrap(client.GET("/api/v1/wallet/top-ups/{top_up_id}", { params: { path: { top_up_id: id } } })),
  transactions: (filter: TransactionFilter) =>
    unwrap(client.GET("/api/v1/wallet/transactions", { params: { query: filter } })),
  balanceAt: (at: string) => unwrap(client.GET("/api/v1/wallet/balance", { params: { query: { at } } })),
};
