-- Batch predict: 16 tweet-length texts per request.
local texts = {
 "@united my flight was delayed three hours and nobody at the gate could tell us anything, worst experience ever",
 "@SouthwestAir thanks for the great service today, the crew was friendly and we landed early!",
 "@AmericanAir is there wifi on the 7am flight from DFW to LAX? need to work during the trip",
 "@JetBlue lost my bag again, second time this month. customer service keeps putting me on hold"}
local items = {}
for k = 1, 16 do items[k] = '"' .. texts[(k - 1) % #texts + 1] .. '"' end
local body = '{"inputs": [' .. table.concat(items, ", ") .. ']}'
request = function()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
