/** Reads the fields a person needs (bank, account, amount, memo) out of a VietQR payload. */

function tlv(data: string): Map<string, string> {
  const fields = new Map<string, string>();
  let i = 0;
  while (i + 4 <= data.length) {
    const tag = data.slice(i, i + 2);
    const length = Number(data.slice(i + 2, i + 4));
    if (!Number.isInteger(length)) break;
    fields.set(tag, data.slice(i + 4, i + 4 + length));
    i += 4 + length;
  }
  return fields;
}

/** NAPAS BINs of the banks most customers use (the rest show the BIN). */
const BANKS: Record<string, string> = {
  "970436": "Vietcombank",
  "970415": "VietinBank",
  "970418": "BIDV",
  "970405": "Agribank",
  "970407": "Techcombank",
  "970422": "MB Bank",
  "970416": "ACB",
  "970432": "VPBank",
  "970423": "TPBank",
  "970403": "Sacombank",
};

export interface TransferDetails {
  bankBin: string;
  bank: string;
  account: string;
  amount: number | null;
  memo: string;
}

export function parseVietQr(payload: string): TransferDetails | null {
  const top = tlv(payload);
  const merchant = tlv(top.get("38") ?? "");
  const beneficiary = tlv(merchant.get("01") ?? "");
  const bankBin = beneficiary.get("00");
  const account = beneficiary.get("01");
  if (!bankBin || !account) return null;
  const amount = top.get("54");
  return {
    bankBin,
    bank: BANKS[bankBin] ?? bankBin,
    account,
    amount: amount ? Number(amount) : null,
    memo: tlv(top.get("62") ?? "").get("08") ?? "",
  };
}
