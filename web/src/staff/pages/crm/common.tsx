import { Badge } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { crmApi, type Group } from "./api";

/** A badge in a table cell shows its whole text (Mantine cuts it with an ellipsis when the column is narrow). */
export const WHOLE = { label: { overflow: "visible" } } as const;

const GROUP_COLOURS: Record<Group, string> = {
  new_from_ads: "violet",
  not_customer: "gray",
  cold: "blue",
  warm: "orange",
  hot: "red",
};

export function GroupBadge({ group }: { group: Group }) {
  const { t } = useTranslation("crm");
  return (
    <Badge color={GROUP_COLOURS[group]} variant="light" styles={WHOLE}>
      {t(`groups.${group}`)}
    </Badge>
  );
}

/** A loyalty level's name as the CRM keeps it (admins name them), translated when it is a default one. */
export function LevelBadge({ level }: { level: string }) {
  const { t } = useTranslation("crm");
  return (
    <Badge color="teal" variant="light" styles={WHOLE}>
      {t(`levels.${level}`, { defaultValue: level })}
    </Badge>
  );
}

/** The CRM's labels: their names by id (rows carry ids). */
export function useLabelNames() {
  const labels = useQuery({ queryKey: ["crm", "labels"], queryFn: crmApi.labels, staleTime: 300_000 });
  const names = new Map((labels.data?.items ?? []).map((l) => [l.id, l.name]));
  return { names, name: (id: string) => names.get(id) ?? id };
}
