/** Plans, orders, subscriptions and contracts. */
import { IdempotentAction, api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";

type Schemas = components["schemas"];
export type Plan = Schemas["PlanRowOut"];
export type Tier = Plan["tier"];
/** Support < Professional < Premium: the order of the catalogue and of upgrades. */
export const TIERS: Tier[] = ["support", "professional", "premium"];
export type Subscription = Schemas["SubscriptionOut"];
export type Sector = NonNullable<Schemas["SettingsOut"]["sector"]>;
/** The closed list of business sectors (the API refuses any other). */
export const SECTORS: Sector[] = ["retail", "fashion", "food_beverage", "services", "hosting", "it_repair"];
export type UpgradePreview = Schemas["UpgradePreviewOut"];
/** The documents billing serves for a contract (the schema types the path segment as a string). */
export type DocumentName = "terms.pdf" | "terms.html" | "confirmation.pdf" | "confirmation.html";

export const servicesApi = {
  plans: () => unwrap(api.GET("/api/v1/plans")),
  order: (action: IdempotentAction, plan_id: string, months: number) =>
    action.run({ plan_id, months }, (key) =>
      unwrap(api.POST("/api/v1/orders", { body: { plan_id, months }, params: { header: { "Idempotency-Key": key } } })),
    ),
  /** Start the plan's free trial (once per account and plan): a paid invoice of 0. */
  trial: (action: IdempotentAction, plan_id: string) =>
    action.run({ plan_id, trial: true }, (key) =>
      unwrap(api.POST("/api/v1/orders", { body: { plan_id, trial: true }, params: { header: { "Idempotency-Key": key } } })),
    ),
  settings: () => unwrap(api.GET("/api/v1/billing/settings")),
  setSector: (sector: Sector) => unwrap(api.PUT("/api/v1/billing/settings", { body: { sector } })),
  subscriptions: () => unwrap(api.GET("/api/v1/subscriptions")),
  purchases: (offset: number, limit = 20) =>
    unwrap(api.GET("/api/v1/purchases", { params: { query: { offset, limit } } })),
  renew: (action: IdempotentAction, id: string, months: number, pay_from_wallet: boolean) =>
    action.run({ id, months, pay_from_wallet }, (key) =>
      unwrap(
        api.POST("/api/v1/subscriptions/{subscription_id}/renew", {
          body: { months, pay_from_wallet },
          params: { path: { subscription_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  autoRenew: (id: string, enabled: boolean) =>
    unwrap(
      api.PUT("/api/v1/subscriptions/{subscription_id}/auto-renew", {
        body: { enabled },
        params: { path: { subscription_id: id } },
      }),
    ),
  upgradePreview: (id: string, plan_id: string) =>
    unwrap(
      api.GET("/api/v1/subscriptions/{subscription_id}/upgrade-preview", {
        params: { path: { subscription_id: id }, query: { plan_id } },
      }),
    ),
  upgrade: (action: IdempotentAction, id: string, plan_id: string, expected_charge: number, pay_from_wallet: boolean) =>
    action.run({ id, plan_id, expected_charge, pay_from_wallet }, (key) =>
      unwrap(
        api.POST("/api/v1/subscriptions/{subscription_id}/upgrade", {
          body: { plan_id, pay_from_wallet, expected_charge },
          params: { path: { subscription_id: id }, header: { "Idempotency-Key": key } },
        }),
      ),
    ),
  document: (id: string, document: DocumentName) =>
    api.GET("/api/v1/contracts/{subscription_id}/documents/{document}", {
      params: { path: { subscription_id: id, document } },
      parseAs: "blob",
    }),
};
