import { NumberInput, Select } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { VALUED, type CareType } from "./api";

/**
 * The care types a contact may get (points and money are a customer's; a plain contact gets the
 * other kinds until converted) and what the chosen one asks for.
 */
export function careChoice(types: CareType[], contactKind: string | undefined, typeId: string | null) {
  const offered = types.filter((ct) => contactKind === "customer" || !VALUED.includes(ct.action));
  const chosen = offered.find((ct) => ct.id === typeId);
  const valued = chosen !== undefined && VALUED.includes(chosen.action);
  const isMoney = chosen?.action === "give_money" || chosen?.action === "deduct_money";
  return { offered, chosen, valued, isMoney };
}

export function careTypeName(t: (key: string, options?: Record<string, unknown>) => string, type: Pick<CareType, "id" | "name">) {
  return t(`crm:careTypes.${type.id}`, { defaultValue: type.name });
}

/** A care action's type and, for points or money, its value: the contact page's form and the care screen's. */
export function CareTypeFields({
  choice,
  typeId,
  onType,
  value,
  onValue,
  errors,
}: {
  choice: ReturnType<typeof careChoice>;
  typeId: string | null;
  onType: (id: string | null) => void;
  value: number | string;
  onValue: (value: number | string) => void;
  errors: { type?: string; value?: string };
}) {
  const { t } = useTranslation("crm");
  return (
    <>
      <Select
        label={t("careType")}
        required
        data={choice.offered.map((ct) => ({ value: ct.id, label: careTypeName(t, ct) }))}
        value={typeId}
        onChange={onType}
        error={errors.type}
      />
      {choice.valued && (
        <NumberInput
          label={choice.isMoney ? t("amount") : t("pointsValue")}
          required
          min={1}
          max={1_000_000_000_000}
          allowDecimal={false}
          allowNegative={false}
          thousandSeparator="."
          decimalSeparator=","
          suffix={choice.isMoney ? " ₫" : undefined}
          value={value}
          onChange={onValue}
          error={errors.value}
          // Mantine's error red (shade 6) is below 4.5:1 on white: the darkest shade.
          styles={errors.value ? { input: { color: "var(--mantine-color-red-9)" }, error: { color: "var(--mantine-color-red-9)" } } : undefined}
        />
      )}
    </>
  );
}
