// How an offer's terms read in Chinese.
import { h, money, dateTime, badge } from './ui.js';
import { OFFER_KIND, OFFER_STATUS, PERIOD, BENEFICIARY_CATEGORY, HONOR, CARD_PRODUCT, CHANNEL, label } from './labels.js';

export function terms(o) {
  switch (o.kind) {
    case 'percent_off': return `优惠 ${o.percent_off}%（${(10 - o.percent_off / 10).toFixed(1).replace(/\.0$/, '')} 折）`;
    case 'amount_off': return `立减 ${money(o.amount_off_fen)}`;
    case 'fixed_price': return `优惠价 ${money(o.price_fen)}`;
    case 'free': return '免费';
    case 'priority_service': return '优先服务（绿色通道）';
    case 'gift': return `赠品：${o.gift || ''}`;
    default: return label(OFFER_KIND, o.kind);
  }
}

export function limits(o) {
  const out = [];
  if (o.total_quota !== null && o.total_quota !== undefined) out.push(`总名额 ${o.total_quota}${o.used_total !== null && o.used_total !== undefined ? `（已用 ${o.used_total}）` : ''}`);
  if (o.per_holder_limit) out.push(`每人${label(PERIOD, o.per_holder_period)} ${o.per_holder_limit} 次`);
  if (o.companions_allowed) out.push(`可带 ${o.companions_allowed} 名家属`);
  if (o.eligible_categories && o.eligible_categories.length) out.push(`限 ${o.eligible_categories.map((c) => label(BENEFICIARY_CATEGORY, c)).join('、')}`);
  if (o.min_honor) out.push(`${label(HONOR, o.min_honor)}及以上`);
  if (o.card_products && o.card_products.length) out.push(`卡种 ${o.card_products.map((c) => label(CARD_PRODUCT, c)).join('、')}`);
  if (o.recurring_dates && o.recurring_dates.length) out.push(`仅 ${o.recurring_dates.join('、')}`);
  if (o.channel) out.push(label(CHANNEL, o.channel));
  return out.join('；') || '不限';
}

export function validity(o) {
  return `${dateTime(o.valid_from)} 起${o.valid_until ? `，至 ${dateTime(o.valid_until)}` : ''}`;
}

export function offerStatus(o) {
  const kind = { pending_review: 'warn', active: 'ok', paused: 'plain', ended: 'plain', rejected: 'bad' }[o.status];
  return h('span', { class: 'offer-status' }, badge(label(OFFER_STATUS, o.status), kind, o.status),
    o.status_reason ? h('small', { class: 'muted' }, ` ${o.status_reason}`) : null);
}
